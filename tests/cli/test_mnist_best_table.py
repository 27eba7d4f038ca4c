"""benchmarks/mnist_best.py's table and goal: the label accuracy of a conditional recipe (configs/mnist/
best_conditional.yaml) is shown and must reach 0.97 besides the unconditional goal."""

from __future__ import annotations

import sys

from tests.helpers import BENCHMARKS

sys.path.insert(0, str(BENCHMARKS))  # benchmarks/ holds scripts, not a package: import them from their folder

import mnist_best  # noqa: E402

GOOD = {
    "fid": 3.0,
    "kid_mean": 0.5,
    "precision": 0.9,
    "recall": 0.9,
    "classes_covered": 10,
    "class_kl": 0.005,
}


def run(config: str, **metrics: float) -> dict:
    return {"config": config, "seed": 1, "fit_seconds": 600, "threads": 2, "device": "CPU",
            "metrics": {"metrics": {**GOOD, **metrics}}}  # fmt: skip


def test_unconditional_runs_keep_their_goal_and_table() -> None:
    plain = run("configs/mnist/best.yaml")
    assert mnist_best.meets_goal(plain) and not mnist_best.is_conditional(plain)
    table = mnist_best.format_table([plain])
    assert "label accuracy" not in table and table.splitlines()[-1].endswith("| met |")


def test_conditional_runs_need_a_label_accuracy_of_0_97() -> None:
    runs = [
        run("configs/mnist/best.yaml"),
        run("configs/mnist/best_conditional.yaml", label_accuracy=0.975),
        run("configs/mnist/best_conditional.yaml", label_accuracy=0.96),
    ]
    assert [mnist_best.meets_goal(r) for r in runs] == [True, True, False]
    lines = mnist_best.format_table(runs).splitlines()
    assert "conditional: label accuracy >= 0.97" in lines[0] and "| label accuracy |" in lines[2]
    assert all(line.count("|") == lines[2].count("|") for line in lines[2:])  # one column more, every row
    assert "| - |" in lines[4] and "| 0.9750 |" in lines[5] and lines[6].endswith("| missed |")
