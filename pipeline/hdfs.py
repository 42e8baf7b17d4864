"""HDFS targets for an hdfs:// [storage] root, on Luigi's WebHDFS client.

Spark needs full URIs (`hdfs://namenode:8020/gw/...`); WebHDFS takes plain paths (`/gw/...`) at the
namenode's HTTP port. `UriWebHdfsClient` bridges the two, so a target's `.path` is the URI everywhere.
"""

from __future__ import annotations

import getpass
import io
import random
import re
import urllib.parse
from typing import Any

import requests
from luigi.contrib.hdfs.config import load_hadoop_cmd
from luigi.contrib.hdfs.hadoopcli_clients import HdfsClient
from luigi.contrib.hdfs.webhdfs_client import WebHdfsClient, webhdfs
from luigi.contrib.webhdfs import WebHdfsTarget
from luigi.target import AtomicLocalFile, FileAlreadyExists

from pipeline.errors import StorageUnavailableError

WEBHDFS_PREFIX = "/webhdfs/v1"
# What each WebHDFS operation does, for the error message.
OPERATIONS = {"CREATE": "write", "APPEND": "append to", "OPEN": "read", "MKDIRS": "create",
              "RENAME": "rename", "DELETE": "delete"}  # fmt: skip


def split_uri(uri: str) -> tuple[str, str]:
    """`hdfs://host:port/path` -> (`host:port`, `/path`)."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != "hdfs" or not parts.netloc:
        raise ValueError(f"{uri}: not an hdfs://namenode[:port]/path URI")
    return parts.netloc, parts.path or "/"


class UriWebHdfsClient(WebHdfsClient):
    """WebHDFS on the namenode an hdfs:// URI names, at `[webhdfs] port`, for paths given as such URIs."""

    def __init__(self, authority: str) -> None:
        host = authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority
        # luigi's client reads $USER, which cron jobs and containers often lack.
        super().__init__(host=host, user=webhdfs().user or getpass.getuser())
        self.prefix = f"hdfs://{authority}"

    def namenode_path(self, path: str) -> str:
        """The WebHDFS path of an hdfs:// URI on this namenode; other paths unchanged."""
        if path.startswith(self.prefix):
            return path[len(self.prefix) :] or "/"
        return path

    def put(self, local_path: str, destination: str) -> None:
        # luigi 3.8.1's WebHdfsClient.put hands its two paths to upload() the wrong way round (upload
        # takes the HDFS path first), so every put failed with "Local path hdfs://... does not exist".
        self.upload(destination, local_path)

    def rename_dont_move(self, path: str, dest: str) -> None:
        """HDFS's rename, which is atomic: how temporary_path() publishes a finished output. (Luigi's
        fallback warns "doesn't support atomic mv" on every output and then does the same.)"""
        if self.exists(dest):
            raise FileAlreadyExists(dest)
        self.client.rename(path, dest)

    @property
    def client(self) -> Any:
        client = super().client  # a new HdfsCLI client on every access (luigi does not keep one)
        resolve = client.resolve
        # Every HdfsCLI call resolves its path first: one place to turn URIs into namenode paths.
        client.resolve = lambda hdfs_path: resolve(self.namenode_path(hdfs_path))
        request = client._request  # every HTTP request, to the NameNode and to DataNodes alike

        def checked_request(method: str, url: str, **kwargs: Any) -> Any:
            try:
                return request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                raise self.unavailable(url, kwargs.get("params") or {}, error) from error

        client._request = checked_request
        return client

    def unavailable(self, url: str, params: dict[str, Any], error: Exception) -> StorageUnavailableError:
        """`hdfs://namenode/path: cannot write: DataNode 127.0.0.1:9864 unreachable (Connection refused)`."""
        # A read follows the NameNode's redirect to a DataNode inside one request: the failed URL is the
        # one the error carries.
        failed = getattr(getattr(error, "request", None), "url", None) or url
        parts = urllib.parse.urlsplit(failed)
        path = parts.path.removeprefix(WEBHDFS_PREFIX) or "/"
        query = dict(urllib.parse.parse_qsl(parts.query))
        op = str(params.get("op") or query.get("op") or "")
        action = OPERATIONS.get(op.upper(), "look up")
        server = "NameNode" if parts.port == int(webhdfs().port) else "DataNode"
        reason = re.search(r"\[Errno -?\d+\] ([^\"')]+)", str(error))
        why = reason.group(1).strip() if reason else type(error).__name__
        return StorageUnavailableError(
            f"{self.prefix}{path}: cannot {action}: HDFS {server} {parts.netloc} unreachable ({why})"
        )


class HadoopCliClient(HdfsClient):
    """luigi's `hadoop` command client (`[hdfs] client = hadoopcli`), publishing outputs by HDFS's atomic
    rename (`fs -mv` to a path that does not exist) instead of warning that it cannot."""

    def rename_dont_move(self, path: str, dest: str) -> None:
        if self.exists(dest):
            raise FileAlreadyExists(dest)
        self.call_check([*load_hadoop_cmd(), "fs", "-mv", path, dest])


class AtomicWebHdfsUpload(AtomicLocalFile):
    """A file written locally and published on close: uploaded beside its path under a temporary name,
    then renamed onto it (HDFS renames atomically), so no reader and no killed run sees half a file.

    luigi's AtomicWebHdfsFile uploads straight to the path, and skips the upload when the path exists.
    """

    def __init__(self, path: str, client: UriWebHdfsClient) -> None:
        self.client = client
        super().__init__(path)

    def move_to_final_destination(self) -> None:
        partial = f"{self.path}-luigi-tmp-{random.randrange(10**10):010}"
        self.client.upload(partial, self.tmp_path)
        if self.client.exists(self.path):  # a rewrite replaces the file, as on local disk
            self.client.remove(self.path, skip_trash=True)
        self.client.client.rename(partial, self.path)  # the parent exists: `partial` is in it


class ReadableWebHdfsTarget(WebHdfsTarget):
    """luigi 3.8.1's WebHdfsTarget cannot be read through a text format: its reader object has no
    `readable()`, which io.TextIOWrapper asks for (found on a real HDFS). Reads go through HdfsCLI's own
    reader instead; the files read this way are records and books, never the Parquet tables
    (storage.local_copy fetches those). Writes go through AtomicWebHdfsUpload."""

    def open(self, mode: str = "r") -> Any:
        if mode == "w":
            return self.format.pipe_writer(AtomicWebHdfsUpload(self.path, self.fs))
        if mode != "r":
            return super().open(mode)
        with self.fs.client.read(self.path) as reader:
            return self.format.pipe_reader(io.BytesIO(reader.read()))


def webhdfs_target(uri: str, fmt: Any) -> ReadableWebHdfsTarget:
    """A WebHDFS target for an hdfs:// URI, keeping the URI as its path."""
    authority, _ = split_uri(uri)
    return ReadableWebHdfsTarget(uri, client=UriWebHdfsClient(authority), format=fmt)
