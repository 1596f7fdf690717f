"""The benches' steal figure (bench/common.py): the share of the machine's time a shared virtual machine's
hypervisor gave other guests between two readings of /proc/stat."""

import os

import pytest
from support import bench_script


@pytest.fixture(scope="module")
def common():
    return bench_script("common")


def test_steal_is_the_stolen_ticks_share_of_all_ticks(common):
    #        user nice system idle iowait irq softirq steal
    before = [100, 0, 50, 800, 10, 0, 5, 35]
    after = [160, 0, 70, 880, 10, 0, 10, 85]  # 60 + 20 + 80 + 5 + 50 ticks passed, 50 of them stolen
    assert common.stolen(before, after) == pytest.approx(50 / 215)
    assert common.stolen(before, before) == 0
    assert common.stolen([], after) is None


def test_the_machine_s_cpu_times_are_read(common):
    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat on this system")
    first, second = common.cpu_times(), common.cpu_times()
    assert len(first) == 8 and all(b >= a for a, b in zip(first, second, strict=True))
    assert 0 <= common.stolen(first, second) <= 1
