# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL + TimescaleDB settings derived from the host, the way timescaledb-tune
and pgtune derive them. Pure Python: no Ansible import needed to compute or test it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: pg_tune
short_description: PostgreSQL settings derived from a host's memory, CPUs, storage and connections
version_added: 0.1.0
description:
  - Returns a mapping of C(postgresql.conf) parameter to value (strings as C(SHOW) prints them,
    for example V(2GB), V(64MB), V(0.9)), derived like timescaledb-tune / pgtune do.
  - Memory is taken as sold; the kernel's total (C(ansible_facts['memtotal_mb'])) is rounded to
    the nearest GiB from 1 GiB up, so an 8 GB VM reporting 7751 MB is sized as 8 GB.
  - shared_buffers = 25% of memory; effective_cache_size = 75%; maintenance_work_mem = memory / 16
    (at most 2GB); wal_buffers = shared_buffers / 32 (between 1MB and 64MB);
    work_mem = (memory - shared_buffers) / max_connections rounded to the nearest power of two
    in MB (between 4MB and 1GB); checkpoint_completion_target 0.9; random_page_cost 1.1 on ssd,
    4 on hdd; effective_io_concurrency 200 on ssd, 2 on hdd; autovacuum scale factors
    0.05 / 0.02 (time-series tables are large and append-only); parallel workers from the CPUs;
    max_worker_processes sized for TimescaleDB's background workers, the parallel workers and
    pg_cron's background workers.
  - For the roadmap's CX32 (8 GB, 4 vCPU, NVMe, 100 connections) it yields shared_buffers 2GB,
    effective_cache_size 6GB, work_mem 64MB, maintenance_work_mem 512MB, wal_buffers 64MB.
  - Every value is overridable through O(overrides); an override wins as given.
options:
  _input:
    description: Total memory of the host in MB (C(ansible_facts['memtotal_mb'])).
    type: int
    required: true
  cpus:
    description: Number of CPUs (C(ansible_facts['processor_vcpus'])).
    type: int
    default: 1
  storage:
    description: Storage kind of the data directory.
    type: str
    choices: [ssd, hdd]
    default: ssd
  max_connections:
    description: The server's max_connections.
    type: int
    default: 100
  cron_workers:
    description: Background worker slots reserved for pg_cron jobs (C(cron.use_background_workers)).
    type: int
    default: 4
  overrides:
    description: Parameter -> value; replaces or adds parameters as given.
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Derive the settings for this host
  ansible.builtin.set_fact:
    pg_settings: >-
      {{ ansible_facts['memtotal_mb'] | darkreach.dbfleet.pg_tune(
           cpus=ansible_facts['processor_vcpus'], storage='ssd', max_connections=100,
           overrides={'work_mem': '32MB'}) }}
'''

RETURN = r'''
_value:
  description: Parameter name -> value as a string in the unit C(SHOW) uses.
  type: dict
  sample: {shared_buffers: 2GB, effective_cache_size: 6GB, work_mem: 64MB}
'''

KB_PER_MB = 1024
KB_PER_GB = 1024 * 1024


class TuneError(ValueError):
    """Input the derivation cannot work with."""


def format_kb(kb):
    """kB -> the unit PostgreSQL's SHOW prints (the largest that divides exactly)."""
    kb = int(kb)
    for unit, size in (("TB", KB_PER_GB * 1024), ("GB", KB_PER_GB), ("MB", KB_PER_MB)):
        if kb >= size and kb % size == 0:
            return "%d%s" % (kb // size, unit)
    return "%dkB" % kb


def _nearest_power_of_two(value):
    if value <= 1:
        return 1
    low = 1
    while low * 2 <= value:
        low *= 2
    high = low * 2
    return low if (value - low) < (high - value) else high


def _positive_int(name, value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TuneError("pg_tune: %s must be an integer, got %r" % (name, value))
    if number < 1:
        raise TuneError("pg_tune: %s must be at least 1, got %r" % (name, value))
    return number


def pg_tune(memory_mb, cpus=1, storage="ssd", max_connections=100, cron_workers=4,
            overrides=None):
    memory_mb = _positive_int("memory_mb", memory_mb)
    cpus = _positive_int("cpus", cpus)
    max_connections = _positive_int("max_connections", max_connections)
    cron_workers = int(cron_workers)
    if storage not in ("ssd", "hdd"):
        raise TuneError("pg_tune: storage must be ssd or hdd, got %r" % (storage,))
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise TuneError("pg_tune: overrides must be a mapping of parameter to value")

    # Memory as sold: round the kernel's total to whole GiB (from 1 GiB up).
    if memory_mb >= 1024:
        memory_mb = max(1, int(round(memory_mb / 1024.0))) * 1024
    mem_kb = memory_mb * KB_PER_MB

    shared_buffers = mem_kb // 4
    effective_cache = mem_kb * 3 // 4
    maintenance = min(mem_kb // 16, 2 * KB_PER_GB)
    wal_buffers = min(max(shared_buffers // 32, KB_PER_MB), 64 * KB_PER_MB)
    work_mem_mb = (mem_kb - shared_buffers) / float(KB_PER_MB) / max_connections
    work_mem = min(max(_nearest_power_of_two(work_mem_mb), 4), 1024) * KB_PER_MB

    timescale_workers = 8
    parallel_workers = cpus
    settings = {
        "max_connections": str(max_connections),
        "shared_buffers": format_kb(shared_buffers),
        "effective_cache_size": format_kb(effective_cache),
        "maintenance_work_mem": format_kb(maintenance),
        "work_mem": format_kb(work_mem),
        "wal_buffers": format_kb(wal_buffers),
        "checkpoint_completion_target": "0.9",
        "min_wal_size": "512MB" if memory_mb >= 4096 else "80MB",
        "max_wal_size": "2GB" if memory_mb >= 4096 else "1GB",
        "default_statistics_target": "100",
        "random_page_cost": "1.1" if storage == "ssd" else "4",
        "effective_io_concurrency": "200" if storage == "ssd" else "2",
        "autovacuum_vacuum_scale_factor": "0.05",
        "autovacuum_analyze_scale_factor": "0.02",
        "max_worker_processes": str(timescale_workers + parallel_workers + cron_workers + 3),
        "max_parallel_workers": str(parallel_workers),
        "max_parallel_workers_per_gather": str(max(1, cpus // 2)),
        "max_parallel_maintenance_workers": str(max(1, cpus // 2)),
        "timescaledb.max_background_workers": str(timescale_workers),
    }
    for name, value in overrides.items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        settings[str(name)] = str(value)
    return settings


class FilterModule(object):
    def filters(self):
        return {"pg_tune": _filter}


def _filter(*args, **kwargs):
    try:
        return pg_tune(*args, **kwargs)
    except TuneError as exc:
        from ansible.errors import AnsibleFilterError
        raise AnsibleFilterError(str(exc))
