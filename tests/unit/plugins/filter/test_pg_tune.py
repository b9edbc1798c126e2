"""plugins/filter/pg_tune.py: settings derived from the host (pure logic)."""
from __future__ import annotations

import pytest

from ansible_collections.darkreach.dbfleet.plugins.filter import pg_tune as mod

ROADMAP_CX32 = {
    "shared_buffers": "2GB",
    "effective_cache_size": "6GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "wal_buffers": "64MB",
    "max_connections": "100",
    "checkpoint_completion_target": "0.9",
    "random_page_cost": "1.1",
    "autovacuum_vacuum_scale_factor": "0.05",
    "autovacuum_analyze_scale_factor": "0.02",
}


def subset(settings: dict, keys) -> dict:
    return {k: settings[k] for k in keys}


def test_cx32_yields_the_roadmap_values():
    got = mod.pg_tune(8192, cpus=4, storage="ssd", max_connections=100)
    assert subset(got, ROADMAP_CX32) == ROADMAP_CX32


def test_cx32_as_the_kernel_reports_it():
    # An 8 GB VM shows less than 8192 MB in /proc/meminfo; it is sized as sold.
    got = mod.pg_tune(7751, cpus=4, storage="ssd", max_connections=100)
    assert subset(got, ROADMAP_CX32) == ROADMAP_CX32


def test_cx22_and_hdd():
    got = mod.pg_tune(3814, cpus=2, storage="hdd", max_connections=100)
    assert got["shared_buffers"] == "1GB"
    assert got["effective_cache_size"] == "3GB"
    assert got["maintenance_work_mem"] == "256MB"
    assert got["wal_buffers"] == "32MB"
    assert got["work_mem"] == "32MB"          # 3072 MB / 100 = 30.7 -> 32
    assert got["random_page_cost"] == "4"
    assert got["effective_io_concurrency"] == "2"
    assert got["max_parallel_workers"] == "2"
    assert got["max_parallel_workers_per_gather"] == "1"


def test_large_host_is_capped():
    got = mod.pg_tune(256 * 1024, cpus=32, max_connections=400)
    assert got["shared_buffers"] == "64GB"
    assert got["maintenance_work_mem"] == "2GB"
    assert got["wal_buffers"] == "64MB"
    assert got["work_mem"] == "512MB"         # 196608 MB / 400 = 491.5 -> 512


def test_small_host_keeps_floors():
    got = mod.pg_tune(512, cpus=1, max_connections=500)
    assert got["shared_buffers"] == "128MB"
    assert got["wal_buffers"] == "4MB"
    assert got["work_mem"] == "4MB"
    assert got["max_parallel_workers_per_gather"] == "1"


def test_worker_processes_cover_timescale_parallel_and_cron():
    got = mod.pg_tune(8192, cpus=4, cron_workers=4)
    assert got["max_worker_processes"] == str(8 + 4 + 4 + 3)
    assert got["timescaledb.max_background_workers"] == "8"


def test_more_connections_means_less_work_mem():
    assert mod.pg_tune(8192, cpus=4, max_connections=200)["work_mem"] == "32MB"


def test_overrides_win_and_add():
    overrides = {"work_mem": "16MB", "jit": False, "random_page_cost": 1.5}
    got = mod.pg_tune(8192, cpus=4, overrides=overrides)
    assert got["work_mem"] == "16MB"
    assert got["jit"] == "off"
    assert got["random_page_cost"] == "1.5"
    assert got["shared_buffers"] == "2GB"


@pytest.mark.parametrize("kb,text", [(2 * 1024 * 1024, "2GB"), (512 * 1024, "512MB"),
                                     (1536 * 1024, "1536MB"), (100, "100kB"),
                                     (1024 ** 3, "1TB")])
def test_format_matches_show(kb, text):
    assert mod.format_kb(kb) == text


@pytest.mark.parametrize("kwargs,word", [
    ({"memory_mb": 0}, "memory_mb"),
    ({"memory_mb": "lots"}, "memory_mb"),
    ({"memory_mb": 8192, "cpus": 0}, "cpus"),
    ({"memory_mb": 8192, "storage": "tape"}, "storage"),
    ({"memory_mb": 8192, "overrides": ["work_mem"]}, "overrides"),
])
def test_bad_input_is_named(kwargs, word):
    with pytest.raises(mod.TuneError, match=word):
        mod.pg_tune(**kwargs)


def test_filter_is_registered():
    assert mod.FilterModule().filters()["pg_tune"] is mod._filter
