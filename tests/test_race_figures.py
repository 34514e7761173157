"""The race's verdict (metrics.race_figures): a wall-clock ratio is reported as a speed-up only
when the steps earned it, on equal work, and within the run's noise."""

from __future__ import annotations

from pasta_core.metrics import race_figures


def steps(n: int, cost: float, jitter: float = 0.0) -> list[float]:
    return [cost * (1 + jitter * ((i % 3) - 1)) for i in range(n)]


def test_nothing_to_split_is_no_speed_up():
    r = race_figures(40, steps(40, 0.01), 0.4, 40, steps(40, 0.01), 0.41, (40, 40))
    assert r["theoretical"] == 1.0 and r["verdict"] == "no speed-up"


def test_a_speed_up_the_steps_earned_is_faster():
    # half the steps, each costing 1.1x a sequential one: expected 2/1.1 = 1.82x
    r = race_figures(50, steps(50, 0.011), 0.55, 100, steps(100, 0.01), 1.0, (100, 100))
    assert abs(r["expected"] - 100 / 50 / 1.1) < 1e-9
    assert r["verdict"] == "faster" and abs(r["wall"] - 1.0 / 0.55) < 1e-9


def test_a_wall_ratio_the_steps_cannot_explain_is_a_busy_machine():
    # the same schedule, but the sequential run was slowed by a neighbour: 3x instead of 2x
    r = race_figures(50, steps(50, 0.01), 0.5, 100, steps(100, 0.01), 1.5, (100, 100))
    assert r["expected"] == 2.0 and r["verdict"] == "busy"
    # ... and a noisy run widens the band instead of claiming anything
    noisy = race_figures(5, steps(5, 0.01, 0.9), 0.05, 10, steps(10, 0.01, 0.9), 0.12,
                         (10, 10))
    assert noisy["band"] > 0.15


def test_answers_of_different_lengths_are_not_a_race():
    # a base model that answered a third of the question is not 3x slower or faster
    r = race_figures(30, steps(30, 0.01), 0.3, 30, steps(30, 0.01), 0.3, (30, 90))
    assert r["verdict"] == "unequal work" and abs(r["work_ratio"] - 1 / 3) < 1e-9


def test_a_run_too_noisy_to_measure_claims_nothing():
    jumpy = [0.01, 0.03, 0.005, 0.04, 0.01, 0.002]
    r = race_figures(6, jumpy, 0.1, 12, jumpy * 2, 0.2, (12, 12))
    assert r["band"] > 0.30 and r["verdict"] == "busy"


def test_nothing_to_split_never_claims_a_speed_up_whatever_the_clock_says():
    # equal steps, but the sequential run was slowed (its steps measured 1.5x dearer)
    r = race_figures(18, steps(18, 0.004), 0.072, 18, steps(18, 0.006), 0.108, (18, 18))
    assert r["theoretical"] == 1.0 and r["verdict"] == "busy"
    assert race_figures(18, steps(18, 0.004), 0.072, 18, steps(18, 0.004), 0.073,
                        (18, 18))["verdict"] == "no speed-up"
