"""Every default is set in one place: the CLI's flags, the HTTP API's bodies and the web UI's
controls read the same decoding defaults (pasta_core.settings.KNOBS), and the CLI's training
flags and the Train tab read the same training defaults (pasta_core.train.config)."""

from __future__ import annotations

import gradio as gr

from pasta_core.cli import build_parser
from pasta_core.settings import KNOB, PUBLIC, Settings, defaults


def ui_controls():
    """The Decode tab's setting controls, built as the app builds them."""
    from ui.config import SpaceConfig
    from ui.jobs import JobQueue, ModelRegistry
    from ui.tabs import decode as decode_tab
    from ui.tabs.common import App

    cfg = SpaceConfig(models=("random:llama",), default_model="random:llama")
    registry = ModelRegistry(cfg)
    with gr.Blocks():
        tab = decode_tab.build(App(cfg, registry, JobQueue(cfg, registry)))
    return {"max_new_tokens": tab.max_new.value, "max_threads": tab.threads.value,
            "temperature": tab.temperature.value, "top_p": tab.top_p.value,
            "seed": tab.seed.value}


def test_decoding_defaults_are_one_table_read_by_cli_api_ui_and_core():
    from ui.api import ChatBody, DecodeBody

    table = defaults()
    assert set(table) == {k.name for k in PUBLIC}
    cli = vars(build_parser().parse_args(["decode", "--prompt", "x"]))
    api = {n: f.default for n, f in DecodeBody.model_fields.items() if n in table}
    chat = {n: f.default for n, f in ChatBody.model_fields.items() if n in table}
    core = {n: getattr(Settings(), n) for n in table}
    ui = ui_controls()
    for name, value in table.items():
        assert cli[name] == value, ("cli", name)
        assert api[name] == value, ("api", name)
        assert core[name] == value, ("core", name)
        if name in chat:
            assert chat[name] == value, ("chat", name)
        if name in ui:  # the UI shows every public setting but the per-thread cap
            assert ui[name] == value, ("ui", name)
    assert set(ui) | {"max_thread_tokens"} == set(table)
    assert set(chat) | {"max_new_tokens"} == set(table)  # chat names it max_tokens


def test_a_changed_default_would_change_everywhere(monkeypatch):
    """The readers really read the table: change a default there, and the CLI and the UI
    follow (so the equality above cannot hold by coincidence)."""
    import dataclasses

    import pasta_core.settings as settings

    knob = dataclasses.replace(KNOB["max_threads"], default=5)
    monkeypatch.setitem(settings.KNOB, "max_threads", knob)
    monkeypatch.setattr(settings, "PUBLIC", tuple(knob if k.name == "max_threads" else k
                                                  for k in settings.PUBLIC))
    cli = vars(build_parser().parse_args(["decode", "--prompt", "x"]))
    assert cli["max_threads"] == 5
    assert ui_controls()["max_threads"] == 5


def test_training_defaults_are_one_table_read_by_cli_and_train_tab():
    from dataclasses import asdict

    from pasta_core.cli import _train_config
    from pasta_core.train.config import DEFAULT_PRESET, PRESETS
    from ui.config import TrainLimits
    from ui.training import PRESET_NAMES
    from ui.training import preset as tab_preset

    for stage in ("stage1", "stage2"):
        args = build_parser().parse_args(["train", stage, "--out", "x"])
        assert _train_config(args) == PRESETS[DEFAULT_PRESET], stage  # no flag: the preset
    roomy = TrainLimits(max_examples=10**6, max_eval_prompts=10**6, max_stage2_prompts=10**6)
    for label, key in PRESET_NAMES.items():
        core = {k: v for k, v in asdict(PRESETS[key]).items() if k not in ("seed", "lora")}
        assert tab_preset(label, roomy) == core, label
    # the CLI's stage 2 takes the measured gentle step, not stage 1's
    args = build_parser().parse_args(["train", "stage2", "--out", "x"])
    cfg = _train_config(args)
    assert cfg.pref().loop.lr == 5e-5 and cfg.pref().loop.epochs == 1.0
