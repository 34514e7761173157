"""Training: the loss sees what the interpreter sees; data checks; both stages; the world recipe."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from pasta_core import decode, load_model
from pasta_core.lang import splice
from pasta_core.models import encode_prompt
from pasta_core.train.data import (
    Record,
    TagGrammar,
    collate,
    encode_record,
    grammar_contexts,
    read_jsonl,
)
from pasta_core.train.loop import (
    LoopConfig,
    grammar_penalty,
    ipo_terms,
    sequence_logprobs,
    sft_loss,
    sft_terms,
    token_logprobs,
)
from pasta_core.train.prefs import PrefConfig, dominates, pareto_front
from pasta_core.train.stages import save_run, stage1, stage2, stage2_data, world_data

FORCED = (
    "Two parts:"
    '<promise topic="a" tokens="20"/><async topic="a"> the first part here</async>'
    '<promise topic="b" tokens="10"/><async topic="b"> second</async><sync/> done.'
)


@pytest.fixture()
def lm():
    return load_model("random:llama")


def test_training_logprobs_equal_the_interpreters_in_a_padded_batch(lm):
    """The batch a training step sees (padded, two examples of different length) gives every
    learned token the log-probability the interpreter reports for the same forced answer."""
    recs = [Record("Describe a and b.", FORCED), Record("Short one?", "Plain answer.")]
    seqs = [encode_record(r, lm.tokenizer, lm.eos_token_id, annotated=True) for r in recs]
    assert len(seqs[0]) != len(seqs[1])
    lp, mask = token_logprobs(lm.model, collate(seqs, lm.tokenizer.pad_token_id))
    for b, rec in enumerate(recs):
        trace = decode(lm, rec.prompt, force=rec.response)
        # the learned tokens are every generated token of every thread (forced tags excluded)
        want = sorted(x for th in trace.threads for x in th.logprobs if x is not None)
        got = sorted(lp[b][mask[b]].tolist())
        assert len(got) == trace.tokens_total
        assert max(abs(g - w) for g, w in zip(got, want, strict=True)) < 1e-4


def test_grammar_penalty_is_each_threads_unlikelihood_of_its_forbidden_tags():
    """Main may never write `</async>` (nor open a block); a chunk may never promise or sync.
    The penalty is the mean over learned positions of −log(1 − p(forbidden)), each position
    judged by the thread that predicts there (the layout's thread ids)."""
    tok = load_model("bundled:pasta-tiny").tokenizer
    g = TagGrammar.of(tok)
    close, sync, promise = (tok.convert_tokens_to_ids(t)
                            for t in ("</async>", "<sync/>", '<promise topic="'))
    assert close in g.main and sync in g.chunk and promise in g.chunk
    assert close not in g.chunk and sync not in g.main and promise not in g.main

    rec = Record("Describe Io and Europa.", '<promise topic="Io" tokens="20"/><async topic="Io">'
                 "Io orbits Jupiter.</async><sync/> Done.")
    seq = encode_record(rec, tok, tok.eos_token_id, annotated=True)
    batch = collate([seq], tok.pad_token_id)
    learned = batch.labels[0] != -100
    assert batch.in_chunk[0][learned].any() and (~batch.in_chunk[0][learned]).any()
    # the labels never hold a token the position's thread may not write
    for i in learned.nonzero()[:, 0].tolist():
        assert batch.labels[0, i].item() not in (g.chunk if batch.in_chunk[0, i] else g.main)

    gen = torch.Generator().manual_seed(0)
    logp = torch.log_softmax(torch.randn(1, len(seq), len(tok), generator=gen) * 3, dim=-1)
    want = []
    for i in learned.nonzero()[:, 0].tolist():
        ids = list(g.chunk if batch.in_chunk[0, i] else g.main)
        want.append(-torch.log1p(-logp[0, i, ids].exp().sum()).item())
    got = grammar_penalty(logp, batch, g).item()
    assert got == pytest.approx(sum(want) / len(want), rel=1e-5)
    # a main thread that is sure to close a block it never opened is penalised hard
    sure = logp.clone()
    main_pos = (learned & ~batch.in_chunk[0]).nonzero()[0, 0]
    spike = torch.where(torch.arange(len(tok)) == close, 20.0, 0.0)
    sure[0, main_pos] = torch.log_softmax(spike, -1)
    assert grammar_penalty(sure, batch, g).item() > got + 10.0 / learned.sum().item()


def test_grammar_contexts_are_main_threads_that_nothing_imitates():
    """A promising answer, spliced, is a main-thread context for the grammar penalty only: its
    likelihood is not learned (the model must not learn to answer without promises)."""
    tok = load_model("bundled:pasta-tiny").tokenizer
    g = TagGrammar.of(tok)
    recs = [Record("Describe a and b.", FORCED), Record("Short one?", "Plain answer.")]
    ctx = grammar_contexts(recs, tok, tok.eos_token_id)
    assert len(ctx) == 1 and ctx[0].nll_weight == 0.0 and not any(ctx[0].in_chunk)
    n_prompt = len(encode_prompt(tok, recs[0].prompt))
    assert ctx[0].input_ids[n_prompt:] == tok.encode(splice(FORCED), add_special_tokens=False) + [
        tok.eos_token_id]

    seqs = [encode_record(recs[0], tok, tok.eos_token_id, annotated=True)]
    gen = torch.Generator().manual_seed(1)
    alone = collate(seqs, tok.pad_token_id)
    both = collate(seqs + ctx, tok.pad_token_id)
    logp = torch.log_softmax(torch.randn(*both.labels.shape, len(tok), generator=gen), -1)
    nll_alone, _ = sft_terms(logp[:1, :alone.labels.shape[1]], alone, None, 0.0)
    nll_both, _ = sft_terms(logp, both, None, 0.0)
    assert nll_both.item() == pytest.approx(nll_alone.item(), rel=1e-6)  # context: not imitated
    with_ctx, extra = sft_terms(logp, both, g, 1.0)
    assert extra["grammar"] > 0 and with_ctx.item() == pytest.approx(
        nll_both.item() + grammar_penalty(logp, both, g).item(), rel=1e-6)


def test_a_tokenizer_without_one_token_tags_trains_with_the_plain_loss(lm):
    """`</` is ordinary text in a tokenizer that spells tags in pieces: no grammar there."""
    assert not TagGrammar.of(lm.tokenizer)
    seqs = [encode_record(Record("Describe a and b.", FORCED), lm.tokenizer, lm.eos_token_id,
                          annotated=True)]
    batch = collate(seqs, lm.tokenizer.pad_token_id)
    lp, mask = token_logprobs(lm.model, batch)
    loss, extra = sft_loss(TagGrammar.of(lm.tokenizer), 1.0)(lm.model, batch)
    assert extra == {} and loss.item() == pytest.approx(-(lp.sum() / mask.sum()).item())


def test_jsonl_reports_each_bad_line_by_number(tmp_path):
    path = tmp_path / "data.jsonl"
    lines = [
        json.dumps({"prompt": "p1", "annotated": FORCED}),
        "{not json",
        json.dumps({"prompt": "p3", "annotated": "x<promise topic='a'/>y"}),  # unfulfilled
        json.dumps({"prompt": "p4", "annotated": "fine"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    records, problems = read_jsonl(path)
    assert records == [] and [p.split(":")[0] for p in problems] == ["line 2", "line 3"]
    assert "unfulfilled_promise" in problems[1]
    records, problems = read_jsonl(path, skip_bad=True)
    assert [r.prompt for r in records] == ["p1", "p4"] and len(problems) == 2


def test_pareto_front_and_dominance():
    pts = [(1.0, 0.9), (2.0, 0.5), (1.5, 0.5), (0.5, 0.95), (2.0, 0.4)]
    assert pareto_front(pts) == [(0.5, 0.95), (1.0, 0.9), (2.0, 0.5)]
    assert dominates([(1.1, 0.95), (2.1, 0.6)], pareto_front(pts))
    assert not dominates(pareto_front(pts), [(3.0, 0.1)])
    assert not dominates(pareto_front(pts), pareto_front(pts))  # equal fronts: no strict win


def test_ipo_is_zero_at_its_target_margin():
    beta = 0.1
    zero = ipo_terms(torch.tensor(5.0 + 1 / (2 * beta)), torch.tensor(0.0), torch.tensor(5.0),
                     torch.tensor(0.0), beta)
    assert zero.item() == pytest.approx(0.0)
    assert ipo_terms(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0),
                     beta).item() == pytest.approx(25.0)


def test_stage1_lowers_the_loss_and_the_saved_run_loads(lm, tmp_path):
    _, records = world_data(lm, 12, seed=1)
    seqs = [encode_record(r, lm.tokenizer, lm.eos_token_id, annotated=True) for r in records]
    before = sum(sequence_logprobs(lm.model, seqs, lm.tokenizer.pad_token_id))
    hist = stage1(lm, records, LoopConfig(epochs=3, lr=3e-3, batch_tokens=1024), progress=False)
    after = sum(sequence_logprobs(lm.model, seqs, lm.tokenizer.pad_token_id))
    assert after > before and hist[-1].step == len(hist)
    out = save_run(lm, tmp_path / "run1", "# run1\n", {"history": [h.to_dict() for h in hist]})
    again = load_model(str(out))
    assert (out / "README.md").read_text().startswith("# run1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1"]  # no temporary folder left
    trace = decode(again, records[0].prompt, force=records[0].response)
    assert trace.text == decode(lm, records[0].prompt, force=records[0].response).text


def test_promise_slack_gives_each_chunk_0_10_or_20_tokens_more_room(lm):
    """Stage 1's promises with slack: each chunk's real length rounded up, plus 0, 10 or 20
    (drawn per chunk, seeded); the answers themselves are the same."""
    from pasta_core.lang import chunk_thread_text, parse_document
    from pasta_core.world.prompts import round_up_tokens

    examples, exact = world_data(lm, 60, seed=1, promise_slack=0)
    _, roomy = world_data(lm, 60, seed=1, promise_slack=20)
    assert world_data(lm, 60, seed=1)[1] == roomy  # the default: stages.PROMISE_SLACK
    assert world_data(lm, 60, seed=1, promise_slack=20)[1] == roomy  # seeded
    assert [r.response for r in exact] == [ex.annotated(lm.count_tokens) for ex in examples]
    extra = []
    for a, b in zip(exact, roomy, strict=True):
        assert splice(a.response) == splice(b.response) and a.prompt == b.prompt
        for c, d in zip(parse_document(a.response).chunks, parse_document(b.response).chunks,
                        strict=True):
            real = round_up_tokens(lm.count_tokens(chunk_thread_text(c.topic, c.body)))
            assert c.tokens == real
            extra.append(d.tokens - real)
    assert set(extra) == {0, 10, 20}


def test_stage2_records_points_pairs_and_fronts(lm):
    examples, _ = world_data(lm, 3, seed=2)
    cfg = PrefConfig(prompts=3, n_samples=4, rounds=1, max_new_tokens=24, temperature=1.0,
                     loop=LoopConfig(epochs=1, lr=1e-4, batch_tokens=1024))
    stopped = []
    out = stage2(lm, examples, cfg, progress=False, on_points=stopped.append)
    assert len(out["points"]) == 3 * 4 and stopped and len(stopped[0]) == 12
    roles = [p["role"] for p in out["points"]]
    assert roles.count("chosen") == roles.count("rejected") >= 1
    assert out["fronts"]["0"] == pareto_front([(p["speedup"], p["quality"])
                                               for p in out["points"]])
    assert all(h["extra"].keys() >= {"sft", "ipo", "margin"} for h in out["history"])


def test_stage2_greedy_first_sample_and_repeat_penalty(lm, monkeypatch):
    from pasta_core.train import prefs

    examples, _ = world_data(lm, 2, seed=2)
    greedy_texts = {ex.prompt: decode(lm, ex.prompt, max_new_tokens=16).text for ex in examples}
    seen: list[tuple[str, bool, str]] = []
    real = prefs.sample

    def spy(lm_, prompt, seed, cfg, greedy=False):
        trace = real(lm_, prompt, seed, cfg, greedy)
        seen.append((prompt, greedy, trace.text))
        return trace

    monkeypatch.setattr(prefs, "sample", spy)
    cfg = PrefConfig(prompts=2, n_samples=3, rounds=1, max_new_tokens=16, temperature=1.0,
                     error_penalty=0, duplicate_penalty=0, parts_penalty=0, greedy_first=True,
                     repeat_penalty=2.0, loop=LoopConfig(epochs=1, lr=1e-5, batch_tokens=1024))
    repeated = set(greedy_texts.values())  # "says something twice": the greedy answers here
    out = prefs.run_stage2(lm, examples, lambda ex, text: 0.5, cfg, progress=False,
                           repeats=lambda text: text in repeated)
    assert [g for _, g, _ in seen] == [True, False, False] * 2  # the first sample is greedy
    assert all(text == greedy_texts[p] for p, g, text in seen if g)
    for (_, greedy, text), pt in zip(seen, out["points"], strict=True):
        lost = 2.0 if text in repeated else 0.0
        assert pt["score"] == pytest.approx(pt["speedup"] + 0.5 - lost)
        assert not greedy or lost == 2.0


@pytest.mark.parametrize("clean", [False, True])
def test_stage2_clean_chosen_forms_no_pair_towards_a_penalised_best(lm, monkeypatch, clean):
    from pasta_core.train import prefs

    examples, _ = world_data(lm, 2, seed=2)
    asked: list[str] = []
    real = prefs.sample

    def spy(lm_, prompt, seed, cfg, greedy=False):
        asked.append(prompt)
        return real(lm_, prompt, seed, cfg, greedy)

    monkeypatch.setattr(prefs, "sample", spy)
    qualities = iter(range(100))  # every sample scores differently: each prompt has a best
    cfg = PrefConfig(prompts=2, n_samples=3, rounds=1, max_new_tokens=16, temperature=1.0,
                     error_penalty=0, duplicate_penalty=0, parts_penalty=0, repeat_penalty=5.0,
                     clean_chosen=clean, loop=LoopConfig(epochs=1, lr=1e-5, batch_tokens=1024))
    dirty = examples[0].prompt  # every sample of this prompt "says something twice"
    out = prefs.run_stage2(lm, examples, lambda ex, text: next(qualities) / 100, cfg,
                           progress=False, repeats=lambda text: asked[-1] == dirty)
    roles: dict[str, list[str]] = {}
    for prompt, pt in zip(asked, out["points"], strict=True):
        roles.setdefault(prompt, []).append(pt["role"])
        assert pt["score"] == pytest.approx(pt["speedup"] + pt["quality"]
                                            - (5.0 if prompt == dirty else 0.0))
    clean_prompt = examples[1].prompt
    assert sorted(roles[clean_prompt]) == ["", "chosen", "rejected"]
    # its best sample was penalised: with clean_chosen no pair, else the usual one
    assert sorted(roles[dirty]) == (["", "", ""] if clean else ["", "chosen", "rejected"])


@pytest.mark.parametrize("share", [0.0, 1.0, 2.0])
def test_stage2_replays_stage1_sequences_beside_its_pairs(lm, monkeypatch, share):
    """`PrefConfig.replay`: share × the round's pairs of the given stage-1 sequences join the
    round's training (as chosen and as rejected), drawn without repeats; the prompts sampled
    stay the ones drawn without replay."""
    from pasta_core.train import prefs

    examples, records = world_data(lm, 6, seed=3)
    seqs = [encode_record(r, lm.tokenizer, lm.eos_token_id, annotated=True) for r in records]
    trained: list[tuple[list, list]] = []
    asked: list[str] = []
    real_loop, real_sample = prefs.run_loop, prefs.sample

    def spy_loop(model, groups, loss, cfg, name, collate_pair, **kw):
        for g in groups:
            chosen, rejected, _, _ = collate_pair(g)
            trained.append((chosen.input_ids[0].tolist(), rejected.input_ids[0].tolist()))
        return real_loop(model, groups, loss, cfg, name, collate_pair, **kw)

    def spy_sample(lm_, prompt, seed, cfg, greedy=False):
        asked.append(prompt)
        return real_sample(lm_, prompt, seed, cfg, greedy)

    monkeypatch.setattr(prefs, "run_loop", spy_loop)
    monkeypatch.setattr(prefs, "sample", spy_sample)
    qualities = iter(range(1000))  # every sample scores differently: each prompt a pair
    cfg = PrefConfig(prompts=2, n_samples=2, rounds=2, max_new_tokens=8, temperature=1.0,
                     error_penalty=0, duplicate_penalty=0, parts_penalty=0, replay=share,
                     loop=LoopConfig(epochs=1, lr=1e-5, batch_tokens=1024))
    prefs.run_stage2(lm, examples[:4], lambda ex, text: next(qualities) / 1000, cfg,
                     progress=False, replay=seqs[4:])  # 2 to replay
    replayed = [c for c, r in trained if c == r]
    assert len(trained) == 2 * (2 + min(2, round(share * 2)))  # 2 rounds: pairs + replay
    assert len(replayed) == 2 * min(2, round(share * 2))
    as_ids = [s.input_ids for s in seqs[4:]]
    assert all(c in as_ids for c in replayed)
    assert all(c not in as_ids for c, r in trained if c != r)  # the pairs are samples
    if share:  # the same prompts as without replay
        monkeypatch.setattr(prefs, "run_loop", real_loop)
        first, asked[:] = list(asked), []
        qualities = iter(range(1000))
        prefs.run_stage2(lm, examples[:4], lambda ex, text: next(qualities) / 1000,
                         replace(cfg, replay=0.0), progress=False)
        assert asked == first


def test_stage2_pool_holds_everyday_requests_at_its_share(lm):
    world, _ = world_data(lm, 90, seed=4)
    assert stage2_data(lm, 90, 0.0, seed=4)[0] == world  # off: the world's examples alone
    pool, _ = stage2_data(lm, 90, 0.1, seed=4)
    assert pool[:90] == world and len(pool) == 100  # 10 of 100: a tenth
    extra = pool[90:]
    assert all(e.outside and e.split == "train" and e.template_id.startswith("everyday/")
               for e in extra)
    assert len({e.prompt for e in extra}) > 5


def test_bf16_autocast_trains_and_keeps_fp32_weights(lm, monkeypatch):
    from pasta_core.train import loop

    monkeypatch.setattr(loop, "bf16_is_fast", lambda device_type: True)
    _, records = world_data(lm, 8, seed=5)
    hist = stage1(lm, records, LoopConfig(epochs=3, lr=3e-3, batch_tokens=512, bf16=True),
                  progress=False)
    assert hist[-1].loss < hist[0].loss
    assert {p.dtype for p in lm.model.parameters()} == {torch.float32}


def test_bf16_is_used_only_where_it_is_fast(monkeypatch, caplog):
    """On a CPU that would emulate bf16 (AVX2 only: 30x slower), a loop asked for bf16 trains
    in fp32, step for step the fp32 loop, and says so; where bf16 is fast it changes the
    numbers (so the fallback is what made them equal)."""
    from pasta_core.train import loop

    def losses(bf16: bool, fast: bool) -> list[float]:
        monkeypatch.setattr(loop, "bf16_is_fast", lambda device_type: fast)
        lm = load_model("random:llama")
        _, records = world_data(lm, 6, seed=5)
        cfg = LoopConfig(epochs=2, lr=3e-3, batch_tokens=512, bf16=bf16)
        return [h.loss for h in stage1(lm, records, cfg, progress=False)]

    fp32 = losses(False, True)
    with caplog.at_level("WARNING", logger=loop.__name__):
        assert losses(True, False) == fp32
    assert "training in fp32" in caplog.text
    assert losses(True, True) != fp32
    assert not loop.uses_bf16(LoopConfig(bf16=False))


def test_stop_between_optimiser_steps(lm):
    _, records = world_data(lm, 8, seed=3)
    calls = iter(range(100))
    hist = stage1(lm, records, LoopConfig(epochs=5, batch_tokens=512), progress=False,
                  should_stop=lambda: next(calls) >= 2)
    assert len(hist) == 2


@pytest.mark.slow  # the whole world recipe, tiny: minutes on a small CPU
def test_quick_world_recipe_builds_loadable_models(tmp_path):
    from pasta_core.train.world import WorldRecipe, build_world

    report = build_world(tmp_path, WorldRecipe.quick(), progress=False)
    for name in ("pasta-tiny", "pasta-tiny-base", "pasta-tiny-apar"):
        lm = load_model(str(tmp_path / name))
        assert next(lm.model.parameters()).dtype == torch.float32  # bf16 on disk, fp32 on CPU
        card = (tmp_path / name / "README.md").read_text()
        assert "judge_pasta" in card and "wall_speedup_geomean" in card
        # the card's grammar sizes are the report's: the whole grammar and its core
        assert f"{report['phrasings']:,} distinct" in card
        assert f"core options, {report['core_phrasings']:,} phrasings" in card
    assert 10_000 < report["core_phrasings"] < report["phrasings"]
    evald = json.loads((tmp_path / "eval.json").read_text())
    # 8 prompts in held-out phrasings (the overall figures), 4 more in training phrasings
    assert evald["n"] == 8 and len(evald["rows"]) == 12
    assert set(evald["by_phrasing"]) == {"held-out", "training"}
    assert all("apar" in r for r in evald["rows"]) and "judge_apar" in evald["overall"]
    assert report["eval"]["overall"] == evald["overall"]
    assert set(report["timings_s"]) == {"tokenizer+data", "stage0", "base", "stage1", "apar",
                                        "stage2", "contrast", "eval"}
    # the contrast stage trained both shipped models last, from the base SFT and stage 2
    assert report["history"]["contrast"] and report["history"]["contrast_base"]
    assert (tmp_path / "base-sft").is_dir() and (tmp_path / "stage2").is_dir()
    assert (tmp_path / "eval.md").read_text().startswith("Evaluation on the `test` split")

    # the rebuild check: from nothing again, every model is the same bits (on one machine;
    # another CPU model may round differently, and a few hundred steps amplify it)
    build_world(tmp_path / "again", WorldRecipe.quick(), progress=False)
    for name in ("pasta-tiny", "pasta-tiny-base", "pasta-tiny-apar"):
        assert ((tmp_path / "again" / name / "model.safetensors").read_bytes()
                == (tmp_path / name / "model.safetensors").read_bytes()), name

    # --resume reuses stage 0, the base (and its contrast stage) and stage 1 (same recipe):
    # their files stay as they were
    kept = {d: (tmp_path / d / "model.safetensors").stat().st_mtime_ns
            for d in ("stage0", "base-sft", "pasta-tiny-base", "stage1", "pasta-tiny-apar")}
    first = (tmp_path / "pasta-tiny" / "model.safetensors").read_bytes()
    build_world(tmp_path, WorldRecipe.quick(), progress=False, resume=True)
    assert {d: (tmp_path / d / "model.safetensors").stat().st_mtime_ns for d in kept} == kept
    # and stage 2 and the contrast stage, run again from the same stage 1 on the same
    # machine, give the same bits
    assert (tmp_path / "pasta-tiny" / "model.safetensors").read_bytes() == first
    # a changed stage-1 recipe retrains stage 1 (and the base, which shares its settings)
    changed = WorldRecipe.quick()
    changed.sft.lr *= 2
    build_world(tmp_path, changed, progress=False, resume=True)
    now = {d: (tmp_path / d / "model.safetensors").stat().st_mtime_ns for d in kept}
    assert now["stage0"] == kept["stage0"] and now["stage1"] != kept["stage1"]

    # more later-stage examples with as many stage-0 drills and lists: stage 0's data is the
    # same, so --resume keeps it, and from nothing it comes out the same bits
    later = WorldRecipe.quick()
    later.n_train, later.drills, later.group_lists = 240, 16, 16
    build_world(tmp_path, later, progress=False, resume=True)
    assert (tmp_path / "stage0" / "model.safetensors").stat().st_mtime_ns == kept["stage0"]
    assert json.loads((tmp_path / "report.json").read_text())["reused_s"].keys() == {"stage0"}
    build_world(tmp_path / "later", later, progress=False)
    assert ((tmp_path / "later" / "stage0" / "model.safetensors").read_bytes()
            == (tmp_path / "stage0" / "model.safetensors").read_bytes())


def test_stage2_knows_a_sample_whose_tags_do_not_parse():
    from types import SimpleNamespace

    from pasta_core.api import dry_run
    from pasta_core.lang import parse_document
    from pasta_core.train.prefs import tag_errors

    lm = load_model("bundled:pasta-tiny")
    eos = lm.eos_token_ids[0]
    good = dry_run(lm.tokenizer, eos, '<promise topic="Io" tokens="20"/><async topic="Io">'
                   'Io orbits Jupiter.</async>')
    assert tag_errors(good) == []
    # a sampled main thread that writes `</async>` (forcing refuses such text, so the Trace's
    # document is all tag_errors reads)
    stray = SimpleNamespace(document=parse_document("Io orbits Jupiter.</async> It is a moon."))
    assert [e.code for e in tag_errors(stray)] == ["stray_close"]
    assert PrefConfig().error_penalty > 0


def test_stage2_counts_promises_against_the_parts_asked_for():
    from types import SimpleNamespace

    from pasta_core.lang import parse_document
    from pasta_core.train.prefs import parts_mismatch
    from pasta_core.world.prompts import generate_split

    def answer(*topics: str):
        tags = "".join(f'<promise topic="{t}" tokens="10"/><async topic="{t}">{t} is big.'
                       '</async>' for t in topics)
        return SimpleNamespace(document=parse_document(tags))

    examples = generate_split("train", 60, seed=4)
    two = next(ex for ex in examples if ex.splittable and len(ex.parts) == 2)
    assert parts_mismatch(two, answer("a", "b")) == 0
    assert parts_mismatch(two, answer("a")) == parts_mismatch(two, answer("a", "b", "c")) == 0.5
    # nothing to split: each promise counts whole
    single = next(ex for ex in examples if not ex.splittable)
    assert not single.parts and parts_mismatch(single, answer()) == 0
    assert parts_mismatch(single, answer("a", "b")) == 2
    # an example that does not say its parts (a custom prompt) is never penalised
    assert parts_mismatch(SimpleNamespace(prompt="hi"), answer("a")) == 0
