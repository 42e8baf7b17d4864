package gutenberg;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.mapreduce.v2.MiniMRYarnCluster;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A NameNode and a DataNode (with WebHDFS), and a ResourceManager and a NodeManager (with the MapReduce
 * shuffle), in this JVM, on 127.0.0.1: Hadoop's own MiniDFSCluster and MiniMRYarnCluster.
 *
 * <pre>java -cp target/classes:$(cat target/classpath.txt) gutenberg.MiniCluster DIR HDFS_PORT WEBHDFS_PORT NM_MEMORY_MB</pre>
 *
 * Ports 0 are free ones. When HDFS is out of safe mode and the NodeManager has registered, it writes
 * DIR/conf/{core,hdfs,yarn,mapred}-site.xml (a HADOOP_CONF_DIR for clients) and then DIR/ready.json with the
 * addresses; it runs until it is signalled, and stops both clusters on the way out.
 */
public final class MiniCluster {
  private static final Logger LOG = LoggerFactory.getLogger(MiniCluster.class);
  private static final String HOST = "127.0.0.1";

  private MiniCluster() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: MiniCluster DIR HDFS_PORT WEBHDFS_PORT NM_MEMORY_MB");
      System.exit(2);
    }
    File dir = new File(args[0]).getAbsoluteFile();
    int hdfsPort = Integer.parseInt(args[1]);
    int webhdfsPort = Integer.parseInt(args[2]);
    int nodeMemoryMb = Integer.parseInt(args[3]);
    long started = System.nanoTime();

    Configuration conf = new Configuration();
    conf.set("hadoop.tmp.dir", new File(dir, "tmp").getPath());
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, new File(dir, "hdfs").getPath());
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.setBoolean("dfs.permissions.enabled", false);
    conf.setInt("dfs.replication", 1);
    // Clients (WebHDFS, Spark, streaming) act as whichever user runs them.
    conf.set("hadoop.proxyuser." + System.getProperty("user.name") + ".hosts", "*");
    conf.set("hadoop.proxyuser." + System.getProperty("user.name") + ".groups", "*");
    // Two cores shared with Spark and the tests: RPC calls may wait a while for a busy daemon.
    conf.setInt("ipc.client.connect.max.retries", 30);
    conf.setInt("ipc.client.connect.max.retries.on.timeouts", 30);
    conf.setInt("ipc.client.connect.timeout", 20000);

    MiniDFSCluster dfs =
        new MiniDFSCluster.Builder(conf)
            .nameNodePort(hdfsPort)
            .nameNodeHttpPort(webhdfsPort)
            .numDataNodes(1)
            .format(true)
            .build();
    dfs.waitActive();
    while (dfs.getNameNode().isInSafeMode()) {
      Thread.sleep(200);
    }
    int rpcPort = dfs.getNameNodePort();
    int httpPort = dfs.getNameNode().getHttpAddress().getPort();
    LOG.info("HDFS up at hdfs://{}:{} (WebHDFS http://{}:{})", HOST, rpcPort, HOST, httpPort);

    Configuration yarnConf = new YarnConfiguration(dfs.getConfiguration(0));
    yarnConf.set("fs.defaultFS", "hdfs://" + HOST + ":" + rpcPort);
    // One NodeManager on a small machine: let ApplicationMasters take every container if they must.
    yarnConf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");
    yarnConf.setInt("yarn.minicluster.yarn.nodemanager.resource.memory-mb", nodeMemoryMb);
    yarnConf.setInt("yarn.nodemanager.resource.memory-mb", nodeMemoryMb);
    yarnConf.setInt("yarn.nodemanager.resource.cpu-vcores", 4);
    yarnConf.setInt("yarn.scheduler.minimum-allocation-mb", 256);
    yarnConf.setInt("yarn.scheduler.maximum-allocation-mb", nodeMemoryMb);
    yarnConf.setInt("yarn.app.mapreduce.am.resource.mb", 512);
    yarnConf.setInt("mapreduce.map.memory.mb", 512);
    yarnConf.setInt("mapreduce.reduce.memory.mb", 512);
    yarnConf.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
    yarnConf.setBoolean("yarn.nodemanager.pmem-check-enabled", false);
    // A nearly full disk must not take the only NodeManager out of service.
    yarnConf.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "99.5");
    MiniMRYarnCluster yarn = new MiniMRYarnCluster("gutenberg-wordcount", 1);
    yarn.init(yarnConf);
    yarn.start();
    if (!yarn.waitForNodeManagersToConnect(120_000)) {
      throw new IllegalStateException("the NodeManager did not register with the ResourceManager");
    }
    Configuration clientConf = yarn.getConfig();
    clientConf.set("fs.defaultFS", "hdfs://" + HOST + ":" + rpcPort);
    String rmWeb = clientConf.get("yarn.resourcemanager.webapp.address");
    LOG.info("YARN up, ResourceManager at http://{}", rmWeb);

    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  yarn.stop();
                  dfs.shutdown();
                }));

    File confDir = new File(dir, "conf");
    confDir.mkdirs();
    writeSite(clientConf, new File(confDir, "core-site.xml"), "fs.", "hadoop.", "ipc.", "io.");
    writeSite(clientConf, new File(confDir, "hdfs-site.xml"), "dfs.");
    writeSite(clientConf, new File(confDir, "yarn-site.xml"), "yarn.");
    writeSite(clientConf, new File(confDir, "mapred-site.xml"), "mapreduce.", "mapred.");

    Map<String, String> ready = new LinkedHashMap<>();
    ready.put("hdfs", "hdfs://" + HOST + ":" + rpcPort);
    ready.put("webhdfs", "http://" + HOST + ":" + httpPort);
    URI rm = URI.create("http://" + rmWeb);
    ready.put("resourcemanager", "http://" + HOST + ":" + rm.getPort());
    ready.put("resourcemanager_address", clientConf.get("yarn.resourcemanager.address"));
    ready.put("conf_dir", confDir.getPath());
    ready.put("hadoop_version", org.apache.hadoop.util.VersionInfo.getVersion());
    ready.put("start_seconds", String.format("%.1f", (System.nanoTime() - started) / 1e9));
    writeJson(ready, new File(dir, "ready.json"));
    Thread.currentThread().join();
  }

  /** The keys of `conf` under `prefixes`, as a Hadoop *-site.xml. */
  private static void writeSite(Configuration conf, File file, String... prefixes) throws IOException {
    Configuration site = new Configuration(false);
    for (Map.Entry<String, String> entry : conf) {
      for (String prefix : prefixes) {
        if (entry.getKey().startsWith(prefix)) {
          site.set(entry.getKey(), conf.get(entry.getKey()));
        }
      }
    }
    File tmp = new File(file.getPath() + ".tmp");
    try (OutputStream out = new FileOutputStream(tmp)) {
      site.writeXml(out);
    }
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.REPLACE_EXISTING);
  }

  /** A flat JSON object of strings, renamed into place so a reader never sees half of it. */
  private static void writeJson(Map<String, String> values, File file) throws IOException {
    StringBuilder json = new StringBuilder("{\n");
    int i = 0;
    for (Map.Entry<String, String> entry : values.entrySet()) {
      json.append("  \"").append(entry.getKey()).append("\": \"");
      json.append(entry.getValue().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      json.append(++i < values.size() ? ",\n" : "\n");
    }
    json.append("}\n");
    File tmp = new File(file.getPath() + ".tmp");
    Files.write(tmp.toPath(), json.toString().getBytes(StandardCharsets.UTF_8));
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
  }
}
