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
 * <pre>java -cp target/classes:$(cat target/classpath.txt) gutenberg.MiniCluster DIR HDFS_PORT WEBHDFS_PORT NM_MEMORY_MB HOST</pre>
 *
 * Ports 0 are free ones. HOST is the address clients are given: 127.0.0.1 keeps everything on loopback;
 * any other address (another network namespace's gateway, a container's name) makes HDFS listen on every
 * interface and hand out HOST for the NameNode and the DataNode. When HDFS is out of safe mode and the
 * NodeManager has registered, it writes DIR/conf/{core,hdfs,yarn,mapred}-site.xml (a HADOOP_CONF_DIR for
 * clients) and then DIR/ready.json with the addresses; it runs until it is signalled, and stops both
 * clusters on the way out.
 *
 * <p>Fault tests stop and start the DataNode: writing "stop" or "start" to DIR/control/datanode asks for
 * it, and DIR/control/datanode.state says "stopped" or "running" once it is done.
 */
public final class MiniCluster {
  private static final Logger LOG = LoggerFactory.getLogger(MiniCluster.class);
  private static final String LOOPBACK = "127.0.0.1";

  private MiniCluster() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: MiniCluster DIR HDFS_PORT WEBHDFS_PORT NM_MEMORY_MB HOST");
      System.exit(2);
    }
    File dir = new File(args[0]).getAbsoluteFile();
    int hdfsPort = Integer.parseInt(args[1]);
    int webhdfsPort = Integer.parseInt(args[2]);
    int nodeMemoryMb = Integer.parseInt(args[3]);
    String host = args[4];
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

    boolean remote = !host.equals(LOOPBACK);
    if (remote) {
      // MiniDFSCluster binds the NameNode to 127.0.0.1 and the DataNode registers from there; clients on
      // another host are told to use `host` for both instead (HDFS's own multihoming settings).
      conf.set("dfs.namenode.rpc-bind-host", "0.0.0.0");
      conf.set("dfs.namenode.http-bind-host", "0.0.0.0");
      conf.set("dfs.datanode.address", "0.0.0.0:0");
      conf.set("dfs.datanode.http.address", "0.0.0.0:0");
      conf.set("dfs.datanode.ipc.address", "0.0.0.0:0");
      conf.set("dfs.datanode.hostname", host);
      conf.setBoolean("dfs.client.use.datanode.hostname", true);
      conf.setBoolean("dfs.namenode.datanode.registration.ip-hostname-check", false);
    }
    MiniDFSCluster dfs =
        new MiniDFSCluster.Builder(conf)
            .nameNodePort(hdfsPort)
            .nameNodeHttpPort(webhdfsPort)
            .numDataNodes(1)
            .checkDataNodeAddrConfig(remote)
            .checkDataNodeHostConfig(remote)
            .format(true)
            .build();
    dfs.waitActive();
    while (dfs.getNameNode().isInSafeMode()) {
      Thread.sleep(200);
    }
    int rpcPort = dfs.getNameNodePort();
    int httpPort = dfs.getNameNode().getHttpAddress().getPort();
    LOG.info("HDFS up at hdfs://{}:{} (WebHDFS http://{}:{})", host, rpcPort, host, httpPort);

    Configuration yarnConf = new YarnConfiguration(dfs.getConfiguration(0));
    yarnConf.set("fs.defaultFS", "hdfs://" + host + ":" + rpcPort);
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
    clientConf.set("fs.defaultFS", "hdfs://" + host + ":" + rpcPort);
    if (remote) {
      clientConf.setBoolean("dfs.client.use.datanode.hostname", true);
    }
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
    ready.put("hdfs", "hdfs://" + host + ":" + rpcPort);
    ready.put("webhdfs", "http://" + host + ":" + httpPort);
    URI rm = URI.create("http://" + rmWeb);
    ready.put("resourcemanager", "http://" + LOOPBACK + ":" + rm.getPort());
    ready.put("resourcemanager_address", clientConf.get("yarn.resourcemanager.address"));
    ready.put("conf_dir", confDir.getPath());
    ready.put("hadoop_version", org.apache.hadoop.util.VersionInfo.getVersion());
    ready.put("start_seconds", String.format("%.1f", (System.nanoTime() - started) / 1e9));
    writeJson(ready, new File(dir, "ready.json"));
    serveDataNodeRequests(dfs, new File(dir, "control"));
  }

  /** Stops and starts the DataNode on request (DIR/control/datanode), forever. */
  private static void serveDataNodeRequests(MiniDFSCluster dfs, File control) throws Exception {
    control.mkdirs();
    File request = new File(control, "datanode");
    File state = new File(control, "datanode.state");
    MiniDFSCluster.DataNodeProperties stopped = null;
    writeAtomically(state, "running\n");
    while (true) {
      Thread.sleep(100);
      if (!request.exists()) {
        continue;
      }
      String wanted = Files.readString(request.toPath(), StandardCharsets.UTF_8).trim();
      Files.delete(request.toPath());
      if (wanted.equals("stop") && stopped == null) {
        stopped = dfs.stopDataNode(0);
        LOG.info("DataNode stopped on request");
      } else if (wanted.equals("start") && stopped != null) {
        dfs.restartDataNode(stopped, true); // same ports: clients may have cached the address
        dfs.waitActive();
        stopped = null;
        LOG.info("DataNode started on request");
      }
      writeAtomically(state, (stopped == null ? "running" : "stopped") + "\n");
    }
  }

  private static void writeAtomically(File file, String text) throws IOException {
    File tmp = new File(file.getPath() + ".tmp");
    Files.write(tmp.toPath(), text.getBytes(StandardCharsets.UTF_8));
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
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
    writeAtomically(file, json.toString());
  }
}
