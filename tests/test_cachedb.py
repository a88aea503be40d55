"""The on-disk caches read by key (pipeline.cache.db): the build memo and the ingest cache."""

from __future__ import annotations

import json
import sqlite3
from hashlib import sha256

from pipeline.cache import db as cachedb
from pipeline.cache.db import CacheTable
from pipeline.cache.memo import MEMO_FILE, BuildMemo
from pipeline.ingest.probecache import MediaCache
from pipeline.transcripts.corrections import COPY_FILE, WRITTEN_FILE, WrittenLog


def test_values_survive_a_commit_and_unused_ones_drop_out(tmp_path):
    path = tmp_path / "cache.sqlite"
    table = CacheTable(path, version=1)
    assert table.put("files", "a", [1, 2, "x"]) is True
    assert table.put("files", "a", [1, 2, "x"]) is False  # the same value: nothing written
    table.put("pages", "b", {"key": "k", "mentions": "[]"})
    table.commit()
    table.close()

    again = CacheTable(path, version=1)
    assert again.get("files", "a") == [1, 2, "x"]
    assert again.get("files", "missing") is None
    again.commit()  # "b" was not used by this run
    again.close()
    third = CacheTable(path, version=1)
    assert third.get("pages", "b") is None and third.get("files", "a") == [1, 2, "x"]


def test_many_entries_used_are_kept_and_the_others_drop_out(tmp_path, monkeypatch):
    monkeypatch.setattr(cachedb, "USED_BATCH", 3)  # handed to SQLite a few at a time
    path = tmp_path / "cache.sqlite"
    table = CacheTable(path, version=1)
    for number in range(20):
        table.put("files", str(number), number)
    table.commit(prune=False)
    table.close()
    again = CacheTable(path, version=1)
    assert [again.get("files", str(n)) for n in range(0, 20, 2)] == list(range(0, 20, 2))
    again.put("files", "1", 1)  # the same value: still counts as used
    again.put("files", "3", 33)
    again.commit()
    again.close()
    third = CacheTable(path, version=1)
    assert [n for n in range(20) if third.get("files", str(n)) is not None] == \
        [0, 1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 18]
    assert third.get("files", "3") == 33


def test_what_is_not_committed_is_not_kept(tmp_path):
    path = tmp_path / "cache.sqlite"
    table = CacheTable(path, version=1)
    table.put("s", "kept", 1)
    table.commit()
    table.put("s", "lost", 2)
    table.put("s", "kept", 3)
    table.close()  # a killed build: no commit
    again = CacheTable(path, version=1)
    assert again.get("s", "lost") is None and again.get("s", "kept") == 1


def test_another_version_or_a_damaged_file_starts_afresh(tmp_path):
    path = tmp_path / "cache.sqlite"
    table = CacheTable(path, version=1)
    table.put("s", "n", 1)
    table.commit()
    table.close()
    assert CacheTable(path, version=2).get("s", "n") is None

    path.write_bytes(b"not a database at all" * 100)
    damaged = CacheTable(path, version=2)
    assert damaged.get("s", "n") is None
    damaged.put("s", "n", 5)
    damaged.commit()
    damaged.close()
    assert CacheTable(path, version=2).get("s", "n") == 5


def test_a_locked_cache_is_done_without(tmp_path):
    path = tmp_path / "cache.sqlite"
    CacheTable(path, version=1).commit()
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        table = CacheTable(path, version=1, busy_seconds=0.1)
        assert table.get("s", "n") is None
        table.put("s", "n", 1)  # not kept, and no error
        table.commit()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert CacheTable(path, version=1).get("s", "n") is None


def test_the_memo_digests_a_file_once_until_it_changes(tmp_path, monkeypatch):
    output = tmp_path / "page.html"
    output.write_text("een", encoding="utf-8")
    memo = BuildMemo(tmp_path)
    digest = memo.made("pages", "p", "key-1", output)
    memo.save()
    memo.close()
    assert (tmp_path / MEMO_FILE).is_file()

    memo = BuildMemo(tmp_path)
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda self: (_ for _ in ()).throw(
        AssertionError("read again")))
    assert memo.unchanged("pages", "p", "key-1", output)  # by size and time: not read
    assert not memo.unchanged("pages", "p", "key-2", output)
    monkeypatch.undo()
    output.write_text("twee, langer", encoding="utf-8")
    assert not memo.unchanged("pages", "p", "key-1", output)
    assert memo.file_digest(output) != digest
    memo.close()


def test_the_json_caches_of_earlier_versions_are_taken_over_once(tmp_path):
    """An archive's first build after the update neither renders nor probes it all again."""
    cache = tmp_path / ".cache"
    cache.mkdir()
    page = {"key": "k", "output": "d", "status": "machine", "mentions": "[]"}
    (cache / "memo.json").write_text(json.dumps(
        {"version": 3, "sections": {"pages": {"een": page}, "files": {"/x": [1, 2, "d"]}}}))
    media = {"size": 1, "mtime_ns": 2, "info": {}, "tags": {}}
    (cache / "ingest.json").write_text(json.dumps({"version": 1, "entries": {"episodes/een.mp3": media}}))

    memo = BuildMemo(tmp_path)
    assert memo.get("pages", "een") == page and memo.get("files", "/x") == [1, 2, "d"]
    memo.close()
    assert MediaCache(tmp_path).table.get("media", "episodes/een.mp3") == media
    assert not (cache / "memo.json").exists() and not (cache / "ingest.json").exists()

    (cache / "memo.json").write_text(json.dumps({"version": 2, "sections": {"pages": {"twee": page}}}))
    memo = BuildMemo(tmp_path)  # another version's entries are not taken; the file still goes
    assert memo.get("pages", "twee") is None and memo.get("pages", "een") == page
    assert not (cache / "memo.json").exists()


def test_a_file_damaged_inside_is_given_up_and_removed(tmp_path):
    path = tmp_path / "cache.sqlite"
    table = CacheTable(path, version=1)
    for number in range(300):
        table.put("files", f"episode-{number}", ["x" * 1000, number])
    table.commit()
    table.close()
    data = bytearray(path.read_bytes())
    data[8192:len(data) - 4096] = b"\xff" * (len(data) - 4096 - 8192)  # pages past the schema
    path.write_bytes(bytes(data))

    damaged = CacheTable(path, version=1)
    assert [damaged.get("files", f"episode-{n}") for n in (150, 250)] == [None, None]
    damaged.put("files", "episode-1", 1)  # no error: the run goes on without the cache
    damaged.commit()
    assert not path.exists()  # removed: the next run starts afresh
    again = CacheTable(path, version=1)
    again.put("files", "episode-1", 2)
    again.commit()
    again.close()
    assert CacheTable(path, version=1).get("files", "episode-1") == 2


def test_the_written_record_is_read_from_its_copy_and_written_as_json_dumps_would(tmp_path):
    """transcripts/written.json is read by key from .cache/written.sqlite, copied again when
    the file is not the one copied, and saved with the bytes json.dumps(indent=1,
    sort_keys=True) gives: entries recorded now in their place among the others."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    record = {"files": {f"ep-{n}.vtt": f"{n:064x}" for n in range(30)},
              "sources": {f"ep-{n}": {"empty": False, "key": f"k{n}"} for n in range(30)}}
    (folder / WRITTEN_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")

    log = WrittenLog(folder)
    assert log.hashes.get("ep-7.vtt") == f"{7:064x}" and log.sources.get("ep-3")["key"] == "k3"
    assert (tmp_path / COPY_FILE).is_file() and not isinstance(log.hashes.base, dict)
    log.record("ep-7.vtt", "edited")  # replaces one
    log.record("a-first.vtt", "x")  # sorts before all, and after all, and among them
    log.record("zz-last.vtt", "y")
    log.record_source("ep-10b", {"empty": True, "key": "new"})
    log.record_source("ébène", {"key": "é"})  # not ASCII: escaped, sorted by code point
    log.save()
    record["files"] |= {"ep-7.vtt": sha256(b"edited").hexdigest(),
                        "a-first.vtt": sha256(b"x").hexdigest(),
                        "zz-last.vtt": sha256(b"y").hexdigest()}
    record["sources"] |= {"ep-10b": {"empty": True, "key": "new"}, "ébène": {"key": "é"}}
    expected = json.dumps(record, indent=1, sort_keys=True) + "\n"
    assert (folder / WRITTEN_FILE).read_text() == expected

    again = WrittenLog(folder)  # from the copy, which the save brought up to date
    assert again.hashes.get("zz-last.vtt") == sha256(b"y").hexdigest()
    assert again.sources.get("ébène") == {"key": "é"}
    again.save()  # nothing recorded: the file is left as it is
    assert (folder / WRITTEN_FILE).read_text() == expected

    del record["files"]["ep-1.vtt"]  # the file changed outside a build (git): copied again
    (folder / WRITTEN_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    third = WrittenLog(folder)
    assert third.hashes.get("ep-1.vtt") is None and third.hashes.get("ep-2.vtt") == f"{2:064x}"


def test_the_written_record_is_parsed_whole_when_there_is_no_copy(tmp_path):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / WRITTEN_FILE).write_text(json.dumps({"ep-1.vtt": "abc"}))  # the first layout
    (tmp_path / ".cache").write_text("not a folder")  # no copy can be made
    log = WrittenLog(folder)
    assert isinstance(log.hashes.base, dict) and log.hashes.get("ep-1.vtt") == "abc"
    log.record_source("ep-1", {"key": "k"})
    log.save()
    assert json.loads((folder / WRITTEN_FILE).read_text()) == \
        {"files": {"ep-1.vtt": "abc"}, "sources": {"ep-1": {"key": "k"}}}
