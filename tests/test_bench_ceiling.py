"""The claim ceiling's arithmetic (bench/claim_ceiling.py): the CPU per answer from /proc/stat's ticks, and the
bound a won and a lost claim's CPU set on the claim race."""

import pytest
from support import bench_script


@pytest.fixture(scope="module")
def ceiling_module():
    return bench_script("claim_ceiling")


def test_cpu_per_answer_counts_every_busy_tick_and_the_idle_share(ceiling_module, monkeypatch):
    monkeypatch.setattr(ceiling_module, "TICKS", 100)
    #       user nice system idle iowait irq softirq steal
    spent = [120, 0, 50, 20, 10, 0, 10, 0]  # 180 busy ticks (steal counts: the time went), 30 unused
    cpu_ms, idle = ceiling_module.cpu_per_answer(spent, 360)
    assert cpu_ms == pytest.approx(1800 / 360)  # 1.8 s of CPU over 360 answers
    assert idle == pytest.approx(30 / 210)


def test_cpu_per_answer_refuses_a_machine_without_proc_stat(ceiling_module):
    with pytest.raises(ceiling_module.BenchFailure):
        ceiling_module.cpu_per_answer([], 10)


def test_the_bound_is_the_cores_time_over_a_won_and_its_losers_claims(ceiling_module):
    found = ceiling_module.ceiling(won=11.0, lost=5.0, losers=1.0, cores=2, target=200)
    assert found["per_claim"] == pytest.approx(16.0)
    assert found["bound"] == pytest.approx(2000 / 16)  # 125 claims/s
    assert found["budget"] == pytest.approx(10.0)  # 200 claims/s on 2 cores: 10 CPU ms each
    assert found["cut"] == pytest.approx(1 - 10 / 16)  # 37.5 % less CPU per claim


def test_a_reached_target_needs_no_cut(ceiling_module):
    found = ceiling_module.ceiling(won=4.0, lost=2.0, losers=0.5, cores=2, target=150)
    assert found["bound"] == pytest.approx(400)
    assert found["cut"] < 0


WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:40000
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.10ms   10.00ms  120.00ms   70.00%
    Req/Sec   200.00     20.00   250.00     70.00%
  Latency Distribution
     50%   38.50ms
     75%   45.00ms
     90%   52.00ms
     99%   90.25ms
  2000 requests in 5.00s, 1.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 1990
Requests/sec:    400.00
Transfer/sec:    200.00KB
unexpected statuses: 7
"""


def test_wrk_output_gives_sockets_non_2xx_and_a_scripts_unexpected_answers_apart(ceiling_module):
    found = ceiling_module.common.parse_wrk(WRK_OUTPUT)
    assert (found["requests"], found["rps"], found["p50"], found["p99"]) == (2000, 400.0, 38.5, 90.25)
    assert (found["sockets"], found["non_2xx"], found["errors"]) == (3, 1990, 1993)
    # the claims' script counted 7 answers that were not the status it expects
    assert found["unexpected"] == 7
    plain = ceiling_module.common.parse_wrk(WRK_OUTPUT.replace("unexpected statuses: 7\n", ""))
    assert plain["unexpected"] is None
