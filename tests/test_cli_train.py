"""`python -m pasta_core train …`: defaults from one place, and refusals that are one line.

In-process (`cli.main`), with the training itself replaced where only the checks before it
matter: each refusal must come before any model is loaded or any file written.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest

from pasta_core import cli
from pasta_core.train.config import PRESETS, TrainConfig
from pasta_core.train.prefs import PrefConfig
from pasta_core.train.stages import save_run

from .test_cli import _check_error


@pytest.fixture
def trained(monkeypatch):
    """cli.main with the training replaced: records the config each run would use."""
    seen: list[TrainConfig] = []

    def fake(a):
        seen.append(a.cfg)
        return 0

    monkeypatch.setattr(cli, "_train_stage", fake)
    return seen


def test_cli_stage2_uses_the_measured_stage2_defaults(trained, tmp_path):
    assert cli.main(["train", "stage2", "--out", str(tmp_path / "r")]) == 0
    pref = trained[0].pref()
    assert (pref.loop.lr, pref.loop.epochs) == (5e-5, 1.0)
    assert asdict(pref) == asdict(PrefConfig())  # the preset and PrefConfig agree
    assert cli.main(["train", "stage1", "--out", str(tmp_path / "r")]) == 0
    assert (trained[1].lr, trained[1].epochs) == (PRESETS["full"].lr, PRESETS["full"].epochs)


def test_cli_stage2_lr_and_epochs_flags_set_stage2s_loop(trained, tmp_path):
    assert cli.main(["train", "stage2", "--out", str(tmp_path / "r"), "--lr", "1e-5",
                     "--epochs", "3", "--preset", "cpu-demo"]) == 0
    cfg = trained[0]
    assert (cfg.lr2, cfg.epochs2) == (1e-5, 3.0)
    assert cfg.lr == PRESETS["cpu-demo"].lr and cfg.prompts == PRESETS["cpu-demo"].prompts


def test_the_train_tab_presets_are_the_cores():
    from ui.training import PRESETS as UI_PRESETS
    from ui.training import TrainSettings

    for label, key in (("CPU demo", "cpu-demo"), ("Full", "full")):
        core = asdict(PRESETS[key])
        assert UI_PRESETS[label] == {k: v for k, v in core.items() if k not in ("seed", "lora")}
    s = TrainSettings(name="x", start_model="random:llama")
    assert {k: getattr(s, k) for k in asdict(TrainConfig())} == asdict(TrainConfig())


@pytest.mark.parametrize(("flags", "named"), [
    (["--lr", "nan"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--epochs", "-1"], "--epochs"),
    (["--epochs", "inf"], "--epochs"),
    (["--n", "-5"], "--n"),
    (["--max-steps", "-1"], "--max-steps"),
    (["--grammar-weight", "-1"], "--grammar-weight"),
    (["--beta", "0"], "--beta"),
])
def test_a_bad_number_is_one_line_naming_the_flag(capsys, tmp_path, trained, flags, named):
    rc = cli.main(["train", "stage1", "--out", str(tmp_path / "x"), *flags])
    out, err = capsys.readouterr()
    _check_error(rc, err, named)
    assert rc == 2 and out == "" and not (tmp_path / "x").exists() and not trained


def test_stage2_lr_nan_names_the_flag(capsys, tmp_path, trained):
    rc = cli.main(["train", "stage2", "--out", str(tmp_path / "x"), "--lr", "nan"])
    _check_error(rc, capsys.readouterr().err, "--lr")
    assert rc == 2 and not trained


def test_a_missing_or_unreadable_data_file_is_one_line(capsys, tmp_path, trained):
    rc = cli.main(["train", "stage1", "--out", str(tmp_path / "x"), "--data",
                   str(tmp_path / "nope.jsonl")])
    _check_error(rc, capsys.readouterr().err, "--data")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00bad")
    rc2 = cli.main(["train", "stage1", "--out", str(tmp_path / "x"), "--data",
                    str(tmp_path / "bin.jsonl")])
    _check_error(rc2, capsys.readouterr().err, "--data")
    assert rc == rc2 == 2 and not trained and not (tmp_path / "x").exists()


def test_out_that_is_a_file_is_refused(capsys, tmp_path, trained):
    f = tmp_path / "model.bin"
    f.write_bytes(b"mine")
    rc = cli.main(["train", "stage1", "--out", str(f)])
    _check_error(rc, capsys.readouterr().err, "--out")
    assert rc == 2 and f.read_bytes() == b"mine" and not trained
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]


def test_a_users_folder_is_refused_without_overwrite(capsys, tmp_path, trained):
    d = tmp_path / "photos"
    d.mkdir()
    (d / "cat.jpg").write_bytes(b"cat")
    rc = cli.main(["train", "stage1", "--out", str(d)])
    _check_error(rc, capsys.readouterr().err, "--overwrite")
    assert rc == 2 and (d / "cat.jpg").read_bytes() == b"cat" and not trained
    assert cli.main(["train", "stage1", "--out", str(d), "--overwrite"]) == 0 and trained


def test_an_empty_folder_or_a_run_of_ours_is_accepted(tmp_path, trained):
    (tmp_path / "empty").mkdir()
    assert cli.main(["train", "stage1", "--out", str(tmp_path / "empty")]) == 0
    run = tmp_path / "run"
    run.mkdir()
    (run / "training.json").write_text("{}")
    assert cli.main(["train", "stage1", "--out", str(run)]) == 0
    assert len(trained) == 2


def test_a_failed_save_leaves_the_old_run_and_no_temporary_folder(tmp_path, monkeypatch):
    from pasta_core.models import load_model

    lm = load_model("random:llama")
    out = save_run(lm, tmp_path / "run", "# first\n", {"n": 1})

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lm.tokenizer, "save_pretrained", boom)
    with pytest.raises(OSError):
        save_run(lm, out, "# second\n", {"n": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "README.md").read_text() == "# first\n"
    monkeypatch.undo()
    save_run(lm, out, "# second\n", {"n": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (out / "README.md").read_text() == "# second\n"
    with pytest.raises(NotADirectoryError):
        save_run(lm, out / "README.md", "# x\n")
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_cli_stage1_runs_the_pipeline_and_writes_one_card(tmp_path, capsys):
    out = tmp_path / "mine"
    args = ["train", "stage1", "--model", "random:llama", "--out", str(out), "--n", "4",
            "--max-steps", "1", "--batch-tokens", "512", "--preset", "cpu-demo"]
    assert cli.main(args) == 0
    info = __import__("json").loads((out / "training.json").read_text())
    assert info["stage"] == "stage1" and info["settings"]["examples"] == 4
    assert len(info["history"]["stage1"]) == 1 and info["stage1"]["config"]["max_steps"] == 1
    card = (out / "README.md").read_text()
    assert "`python -m pasta_core train`" in card and "## Evaluation" not in card
    assert "**These weights are the model after stage 1" in card
    assert cli.main(args) == 0  # a run of ours is replaced without --overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert capsys.readouterr().out.splitlines()[-1] == f"saved {out}"
