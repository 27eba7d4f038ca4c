"""The benchmark scripts (benchmarks/): their step lists, ordering, caching and argument checks, so they do not rot
between the (hour-long) runs that produce docs/benchmarks.md. The tiny end-to-end runs are marked slow."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.helpers import BENCHMARKS, ROOT, write_tiny_idx

sys.path.insert(0, str(BENCHMARKS))  # benchmarks/ holds scripts, not a package: import them from their folder

import _runs  # noqa: E402
import overhead  # noqa: E402
import run as bench_run  # noqa: E402


def _outputs(mode: str) -> dict[str, str]:
    """Each step's output name: the value of ``--name``, else what the script names its outputs by default."""
    names = {}
    for name, command in bench_run.steps(mode, ROOT / "out", jobs=1):
        if "--name" in command:
            names[name] = command[command.index("--name") + 1]
        elif "--quick" in command:
            names[name] = f"{name}_quick"
        else:
            names[name] = name
    return names


def test_bench_steps_name_existing_scripts_and_quick_never_overwrites_full():
    for mode in ("quick", "full"):
        for _, command in bench_run.steps(mode, ROOT / "out", jobs=1):
            assert (ROOT / "benchmarks" / command[0]).is_file(), command
    assert [name for name, _ in bench_run.steps("quick", ROOT, 1)] == ["overhead", "toy_modes"]
    assert bench_run.STEP_NAMES == {
        "overhead",
        "toy_modes",
        "toy_modes_best",
        "mnist_comparison",
        "mnist_equal_budget",
        "mnist_best",
        "stacked_mnist",
        "gpu_throughput",
    }
    quick, full = _outputs("quick"), _outputs("full")
    # `make bench` must not overwrite the results `make bench-full` wrote (and docs/benchmarks.md quotes)
    assert set(quick.values()).isdisjoint(full.values()), (quick, full)
    assert quick == {"overhead": "overhead_quick", "toy_modes": "toy_modes_quick"}


def test_bench_only_refuses_an_unknown_step(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_run.main(["quick", "--only", "overhead", "toy_mode"])
    assert exit_.value.code == 2
    assert "unknown step(s) toy_mode" in capsys.readouterr().err


def test_overhead_alternates_a_b_b_a_after_one_warm_up_each(monkeypatch):
    calls = []

    def arm(name, seconds):
        def run(objective, data, steps, batch_size, tiny=False):
            calls.append((name, steps))
            return seconds

        return run

    monkeypatch.setattr(overhead, "ARMS", {"gan_lightning": arm("A", 2.0), "plain_pytorch": arm("B", 1.0)})
    times = overhead.time_arms("nsgan", data=None, steps=7, rounds=4, batch_size=8)
    assert calls == [("A", 2), ("B", 2)] + [(n, 7) for n in "ABBAABBA"]
    assert times == {"gan_lightning": [2.0] * 4, "plain_pytorch": [1.0] * 4}


def test_overhead_counts_each_arms_page_faults_per_generator_step(monkeypatch):
    counter = iter(range(0, 10_000, 7))  # each arm's run faults 7 pages by this clock
    monkeypatch.setattr(overhead, "_minor_faults", lambda: next(counter))
    monkeypatch.setattr(
        overhead, "ARMS", {arm: lambda *a, **k: 1.0 for arm in ("gan_lightning", "plain_pytorch")}
    )
    faults: dict[str, list[float]] = {}
    overhead.time_arms("nsgan", data=None, steps=2, rounds=3, batch_size=8, faults=faults)
    assert faults == {"gan_lightning": [3.5] * 3, "plain_pytorch": [3.5] * 3}


def test_steady_heap_keeps_freed_memory_in_the_process():
    # In a child process: the allocator settings would outlive the test. Ten rounds of allocating and freeing
    # 40 MiB: glibc's default hands the freed top of the heap back and faults it in again (81,600 faults here).
    code = """if True:
        import sys, torch
        sys.path.insert(0, "benchmarks")
        import overhead
        def faults_of_rounds():
            before = overhead._minor_faults()
            for _ in range(10):
                held = [torch.ones(1 << 20) for _ in range(10)]
                del held
            return overhead._minor_faults() - before
        torch.ones(2 << 20)
        print(overhead.steady_heap(), faults_of_rounds(), faults_of_rounds())
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    steady, first, again = done.stdout.split()
    if steady != "True":
        pytest.skip("glibc's mallopt is not here")
    assert int(again) < 100, (first, again)  # the first rounds grow the heap once; then no page is faulted


def test_overhead_arms_see_their_own_process_environment(monkeypatch):
    seen = {}
    monkeypatch.setenv(overhead.NVML_CHECK, "before")
    monkeypatch.setattr(
        overhead,
        "_run_lightning",
        lambda *a: seen.setdefault("A", overhead.os.environ.get(overhead.NVML_CHECK)),
    )
    monkeypatch.setattr(
        overhead, "_run_plain", lambda *a: seen.setdefault("B", overhead.os.environ.get(overhead.NVML_CHECK))
    )
    overhead.run_lightning("nsgan", None, 1, 8)
    overhead.run_plain("nsgan", None, 1, 8)
    assert seen == {"A": "1", "B": None}  # lightning's import sets it; a plain PyTorch process lacks it
    assert overhead.os.environ[overhead.NVML_CHECK] == "before"


def test_cached_cells_are_read_back_not_rerun(tmp_path):
    calls = []

    def cell(x):
        calls.append(x)
        return {"value": x * 2}

    jobs = [("a", cell, 1), ("b", cell, 2)]
    assert _runs.run_jobs(tmp_path, jobs, processes=1) == [{"value": 2}, {"value": 4}]
    assert _runs.run_jobs(tmp_path, jobs + [("c", cell, 3)], processes=1) == [
        {"value": 2},
        {"value": 4},
        {"value": 6},
    ]
    assert calls == [1, 2, 3]  # an interrupted run resumes: only the new cell ran


def test_a_truncated_cached_cell_is_run_again_and_replaced(tmp_path, capsys):
    (tmp_path / "a.json").write_text('{"value": ')  # what a write cut off by a killed run leaves
    assert _runs.run_jobs(tmp_path, [("a", lambda x: {"value": x}, 7)], processes=1) == [{"value": 7}]
    assert "unreadable cached cell" in capsys.readouterr().out
    assert json.loads((tmp_path / "a.json").read_text()) == {"value": 7}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no partial file left


def test_a_configs_cache_key_follows_its_settings_not_its_comments(tmp_path):
    config = "model:\n  init_args: {lr: 0.1}  # screened on seed 0\n"
    (tmp_path / "a.yaml").write_text(config)
    (tmp_path / "b.yaml").write_text(
        "# measured: FID 3.0 on seeds 1-3\n" + config.replace("  # screened on seed 0", "")
    )
    (tmp_path / "c.yaml").write_text(config.replace("0.1", "0.2"))
    a, b, c = (_runs.config_digest(tmp_path / f"{name}.yaml") for name in "abc")
    assert a == b != c and len(a) == 12


def test_mnist_comparison_names_the_missing_data(tmp_path, capsys):
    import mnist_comparison

    with pytest.raises(SystemExit) as exit_:
        mnist_comparison.main(["--data-dir", str(tmp_path / "nowhere")])
    assert exit_.value.code == 2
    assert f"no MNIST test digits in {tmp_path / 'nowhere'}" in capsys.readouterr().err


def test_mnist_comparison_names_the_cpu_kernel_set_that_ran(monkeypatch):
    # AVX2 and AVX512 kernels differ in the last bits, and 3,120 GAN steps turn that into different FIDs.
    import mnist_comparison

    monkeypatch.setattr(mnist_comparison.torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    assert (
        mnist_comparison._device_name("cpu")
        == f"CPU ({os.cpu_count()} cores, AVX512 kernels, 1 thread per run)"
    )
    assert mnist_comparison._short_device(mnist_comparison._device_name("cpu")) == "CPU"


def test_gpu_throughput_without_cuda_says_so_and_measures_nothing(tmp_path, capsys, monkeypatch):
    import gpu_throughput

    monkeypatch.setattr(gpu_throughput.torch.cuda, "is_available", lambda: False)
    assert gpu_throughput.main(["--out", str(tmp_path)]) == {}
    assert "no CUDA device here" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_overhead_end_to_end_writes_its_table(tmp_path):
    results = overhead.main(
        ["--rounds", "1", "--steps", "1", "--tiny-steps", "2", "--objectives", "nsgan"]
        + ["--out", str(tmp_path), "--name", "smoke"]
    )
    saved = json.loads((tmp_path / "smoke.json").read_text())
    assert saved["rows"][0]["objective"] == "nsgan" == results["rows"][0]["objective"]
    row = saved["rows"][0]
    ratio = row["seconds_per_g_step"]["gan_lightning"] / row["seconds_per_g_step"]["plain_pytorch"]
    assert row["ratio_median"] == pytest.approx(ratio)
    assert all(m["peak"] > m["growth"] > 0 for m in row["peak_rss_mib"].values())
    assert set(row["minor_faults_per_g_step"]) == {"gan_lightning", "plain_pytorch"}
    assert "| nsgan |" in (tmp_path / "smoke.md").read_text()


@pytest.mark.slow
def test_toy_modes_end_to_end_writes_and_resumes(tmp_path, monkeypatch):
    import toy_modes

    args = ["--variants", "NS-GAN", "--datasets", "ring", "--seeds", "1", "--steps", "20", "--jobs", "1"]
    args += ["--out", str(tmp_path), "--name", "smoke"]
    first = toy_modes.main(args)
    saved = json.loads((tmp_path / "smoke.json").read_text())
    assert {c["variant"] for c in saved["cells"]} == {"NS-GAN"}
    assert (tmp_path / "smoke.png").is_file()
    monkeypatch.setattr(toy_modes, "train_cell", lambda *a: pytest.fail("a cached cell was trained again"))
    assert toy_modes.main(args) == first


@pytest.mark.slow
def test_mnist_comparison_run_cut_off_resumes_where_it_stopped_and_ends_where_an_uncut_one_does(tmp_path):
    import mnist_comparison

    data = write_tiny_idx(tmp_path / "mnist", n=128, split="test")
    settings = {
        "data_dir": str(data),
        "num_samples": 200,
        "grid_epochs": [1, 2],
        "mean_matching_weight": 1.0,
        "accelerator": "cpu",
    }
    whole = mnist_comparison.train_run("GAN", 0, {**settings, "epochs": 3}, str(tmp_path / "whole"))
    # a sitting ends after epoch 2; the next one runs the same command (3 epochs) on the same folder
    mnist_comparison.train_run("GAN", 0, {**settings, "epochs": 2}, str(tmp_path / "cut"))
    resumed = mnist_comparison.train_run("GAN", 0, {**settings, "epochs": 3}, str(tmp_path / "cut"))
    assert (whole["fit_segments"], resumed["fit_segments"]) == (1, 2)
    assert len(resumed["epoch_seconds"]) == 3 and resumed["generator_steps"] == whole["generator_steps"] == 6
    assert resumed["grids"].keys() == whole["grids"].keys() == {"1", "2", "3"}
    for epoch in ("1", "3"):
        torch.testing.assert_close(torch.tensor(resumed["grids"][epoch]), torch.tensor(whole["grids"][epoch]))
    torch.testing.assert_close(resumed["fid"], whole["fid"])


def test_mnist_table_has_precision_recall_and_digit_kl_and_tolerates_older_runs():
    import mnist_comparison

    run = {
        "model": "GAN",
        "seed": 0,
        "fid": 3.0,
        "kid_mean": 1.0,
        "generator_steps": 5,
        "epoch_seconds": [2.0],
    }
    new = {
        **run,
        "seed": 1,
        "fid": 5.0,
        "precision": 0.9,
        "recall": 0.8,
        "class_kl": 0.004,
        "train_seconds": 4,
    }
    floor = {"fid": 1.6, "kid_mean": 0.0, "precision": 0.91, "recall": 0.9, "class_kl": 0.0017}
    table = mnist_comparison.format_table([{**run, "train_seconds": 2}, new], floor, "note")
    row = next(line for line in table.splitlines() if line.startswith("| GAN"))
    # the older run (no precision) is left out of those means, not counted as zero
    assert (
        "| 4.00 ± 1.00 | 3.0 / 5.0 |" in row and "| 0.900 ± 0.000 | 0.800 ± 0.000 | 0.0040 ± 0.0000 |" in row
    )
    assert "| 0.910 | 0.900 | 0.0017 |" in table.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "GAN", "VEEGAN"], "--models: unknown model 'VEEGAN'"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--num-train", "10"], "--num-train must be at least 64, got 10"),
        (["--num-samples", "1"], "--num-samples must be at least 2"),
        (["--split", "valid"], "invalid choice: 'valid'"),
    ],
)
def test_stacked_mnist_refuses_bad_arguments_in_one_line(args, message, tmp_path, capsys):
    import stacked_mnist

    data = write_tiny_idx(tmp_path / "mnist", n=20, split="test")
    with pytest.raises(SystemExit) as exit_:
        stacked_mnist.main(["--data-dir", str(data), *args, "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_stacked_mnist_names_the_missing_split(tmp_path, capsys):
    import stacked_mnist

    data = write_tiny_idx(tmp_path / "mnist", n=20, split="test")
    with pytest.raises(SystemExit):
        stacked_mnist.main(["--data-dir", str(data), "--split", "train"])
    assert f"--data-dir: no MNIST train digits in {data}" in capsys.readouterr().err


def test_stacked_mnist_table_has_means_per_seed_values_the_floor_and_the_published_rows():
    import stacked_mnist

    def run(model, seed, modes, kl):
        return {"model": model, "seed": seed, "classes_covered": modes, "class_kl": kl}

    runs = [
        {**run("GAN", 1, 900.0, 0.5), "generator_steps": 40, "train_seconds": 30.0},
        {**run("GAN", 0, 700.0, 0.9), "generator_steps": 40, "train_seconds": 10.0},
        {**run("PacGAN2", 0, 1000.0, 0.05), "generator_steps": 40, "train_seconds": 12.0},
    ]
    floors = [{**run(None, s, 1000.0, kl), "num_samples": 26000} for s, kl in ((0, 0.02), (1, 0.03))]
    table = stacked_mnist.format_table(runs, floors, "note")
    lines = table.splitlines()
    assert lines[0] == "note"
    assert "| GAN (ours) | 800.0 ± 100.0 | 0.700 ± 0.200 | 700 / 900 | 40 | 20 |" in lines
    assert "| PacGAN2 (ours) | 1000.0 ± 0.0 | 0.050 ± 0.000 | 1000 | 40 | 12 |" in lines
    assert (
        "| real data: 26,000 stacked samples (same run) | 1000.0 ± 0.0 | 0.025 ± 0.005 | 1000 / 1000 | - | - |"
        in lines
    )
    for row in (
        "| DCGAN (VEEGAN Table 2) | 99 | 3.40 |",
        "| Unrolled GAN (VEEGAN Table 2) | 48.7 | 4.32 |",
        "| VEEGAN (VEEGAN Table 2) | 150 | 2.95 |",
        "| DCGAN (PacGAN Table 2) | 78.9 | 4.50 |",
        "| PacDCGAN2 (PacGAN Table 2) | 1000 | 0.06 |",
        "| WGAN-GP (R3GAN Table 3) | 959 | 0.73 |",
        "| StyleGAN2 (R3GAN Table 3) | 940 | 0.42 |",
        "| R3GAN (R3GAN Table 3) | 1000 | 0.029 |",
        "| DCGAN, D = 1/4 G (PacGAN Table 3) | 30.6 | 5.99 |",
        "| PacDCGAN3, D = 1/4 G (PacGAN Table 3) | 601.3 | 2.00 |",
    ):
        assert any(line.startswith(row) for line in lines), row
    quarter = stacked_mnist.format_table(runs, floors, "note", quarter_width_d=True)
    assert "| GAN (ours, D = 1/4 G) |" in quarter


def test_stacked_mnist_builds_three_channel_networks_and_a_quarter_width_critic():
    import stacked_mnist
    import torch

    import gan_lightning.networks as networks

    before = networks.DCGANGenerator, networks.DCGANDiscriminator
    for quarter, width in ((False, 64), (True, 16)):
        for name in ("WGAN-GP", "PacGAN2"):
            model = stacked_mnist.build_model(name, quarter)
            first = next(m for m in model.discriminator.modules() if isinstance(m, torch.nn.Conv2d))
            assert model.generator.out_shape == (3, 28, 28)
            assert (first.in_channels, first.out_channels) == (6 if name == "PacGAN2" else 3, width)
    assert (networks.DCGANGenerator, networks.DCGANDiscriminator) == before  # the swap is undone


@pytest.mark.slow
def test_stacked_mnist_end_to_end_writes_and_reuses_its_cells(tmp_path, monkeypatch):
    import stacked_mnist

    data = write_tiny_idx(tmp_path / "mnist", n=64, split="test")
    args = ["--data-dir", str(data), "--models", "GAN", "--epochs", "1", "--num-train", "128"]
    args += ["--num-samples", "200", "--seeds", "1", "--jobs", "1", "--accelerator", "cpu"]
    args += ["--out", str(tmp_path / "out"), "--name", "smoke"]
    first = stacked_mnist.main(args)
    saved = json.loads((tmp_path / "out" / "smoke.json").read_text())
    assert [r["model"] for r in saved["runs"]] == ["GAN"] and saved["runs"][0]["generator_steps"] == 2
    assert 1 <= saved["runs"][0]["classes_covered"] <= 200 and len(saved["floors"]) == 1
    table = (tmp_path / "out" / "smoke.md").read_text()
    assert "| GAN (ours) |" in table and "| real data: 200 stacked samples (same run) |" in table
    assert (tmp_path / "out" / "smoke_samples.png").is_file()
    monkeypatch.setattr(stacked_mnist, "train_run", lambda *a: pytest.fail("a cached cell was trained again"))
    assert stacked_mnist.main(args) == first


@pytest.mark.slow
def test_stacked_mnist_runs_a_shipped_config_through_the_cli_beside_the_floor(tmp_path, monkeypatch):
    import stacked_mnist

    data = write_tiny_idx(tmp_path / "mnist", n=64, split="test")
    config = tmp_path / "tiny.yaml"
    text = (ROOT / "configs" / "stacked_mnist" / "best.yaml").read_text()
    config.write_text(
        text.replace("num_samples: 128000", "num_samples: 128").replace("max_steps: 28000", "max_steps: 6")
    )
    args = ["--data-dir", str(data), "--models", "--configs", str(config), "--num-samples", "200"]
    args += ["--seeds", "1", "--jobs", "1", "--out", str(tmp_path / "out"), "--name", "smoke"]
    first = stacked_mnist.main(args)
    assert [(r["model"], r["seed"], r["generator_steps"]) for r in first] == [(str(config), 1, 3)]
    assert 1 <= first[0]["classes_covered"] <= 200 and first[0]["train_seconds"] > 0
    table = (tmp_path / "out" / "smoke.md").read_text()
    assert f"| `{config}` |" in table and "| real data: 200 stacked samples (same run) |" in table
    assert (tmp_path / "out" / f"{tmp_path.name}_tiny_seed1_samples.png").is_file()
    monkeypatch.setattr(
        stacked_mnist, "config_run", lambda *a: pytest.fail("a cached cell was trained again")
    )
    assert stacked_mnist.main(args) == first
