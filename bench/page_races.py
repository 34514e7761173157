"""The page's race as a visitor gets it, next to the same race run by the library.

`python app.py` is launched and each prompt is raced N times through the Decode tab's `/decode`
endpoint (mode "both": PASTA against the same model decoding sequentially; driven with
gradio_client, so no browser shares this machine's cores), with the shipped model's own answers.
The same races then run N times in this process (`pasta_core.decode`, as `decode --mode both`
runs them). For each prompt and each way it reports the verdicts the page gives
(`metrics.race_figures`), and the medians of each run's wall time, of the wall ratio and of the
race's noise band. The page should measure what the library measures; where it does not, the
serving costs the decoding thread its time.

    python bench/page_races.py --out bench/results-cpu [--repeats 5]
                               [--app LABEL=DIR ...]   (e.g. an older checkout, to compare)

Writes page-races.json and page-races.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pasta_core import decode, load_model  # noqa: E402
from pasta_core.bench import cpu_machine  # noqa: E402

log = logging.getLogger("page_races")

# (label, prompt): nothing to split, three parts, and the six-lane example of the Decode tab
PROMPTS = [("nothing to split", "What is the capital of Japan?"),
           ("three parts", "Describe Mars, Venus and Jupiter.")]
SIX_LANES = "Six at once (one fact each)"


def prompts() -> list[tuple[str, str]]:
    examples = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
    six = next(e["prompt"] for e in examples if e["label"] == SIX_LANES)
    return [*PROMPTS, ("six parts (the Decode tab's example)", six)]


def summary(races: list[dict]) -> dict:
    """Verdicts and medians of a list of `race` dicts with the runs' wall times."""
    med = statistics.median
    return {"races": len(races),
            "verdicts": dict(Counter(r["verdict"] for r in races)),
            "pasta_wall_s": med(r["pasta_wall_s"] for r in races),
            "sequential_wall_s": med(r["sequential_wall_s"] for r in races),
            "wall": med(r["wall"] for r in races), "expected": med(r["expected"] for r in races),
            "band": med(r["band"] for r in races)}


def library_races(lm, prompt: str, repeats: int) -> list[dict]:
    out = []
    for _ in range(repeats):
        comp = decode(lm, prompt, mode="both")
        out.append({**comp.race, "pasta_wall_s": comp.pasta.wall_s,
                    "sequential_wall_s": comp.sequential.wall_s})
    return out


def _serve(app_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(app_dir)}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=app_dir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    for _ in range(480):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"error: the app in {app_dir} did not start on port {port}")


def page_races(app_dir: Path, cases: list[tuple[str, str]], repeats: int,
               port: int) -> dict[str, list[dict]]:
    """Each prompt raced `repeats` times through `/decode` of the app in `app_dir`; the race
    figures are read from the trace the page offers for download (the CLI's JSON)."""
    from gradio_client import Client

    proc = _serve(app_dir, port)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        api = client.view_api(print_info=False, return_format="dict")[
            "named_endpoints"]["/decode"]
        form = {p["parameter_name"]: p.get("parameter_default") for p in api["parameters"]}
        # the endpoint's download output, found by its component, not by its place
        at = next(i for i, r in enumerate(api["returns"])
                  if r.get("component", "").lower() == "downloadbutton")
        out: dict[str, list[dict]] = {}
        for label, prompt in cases:
            out[label] = []
            for _ in range(repeats):
                args = {**form, "prompt": prompt, "hub_id": "", "mode": "both",
                        "force_on": False, "force_text": ""}
                result = client.predict(**args, api_name="/decode")
                download = result[at]
                path = download["value"] if isinstance(download, dict) else download
                trace = json.loads(Path(path).read_text())
                out[label].append({**trace["race"], "pasta_wall_s": trace["pasta"]["wall_s"],
                                   "sequential_wall_s": trace["sequential"]["wall_s"]})
        return out
    finally:
        proc.kill()
        proc.wait(timeout=30)


def to_markdown(result: dict) -> str:
    lines = [f"# The page's race and the library's ({result['machine']})", "",
             f"Each prompt raced {result['repeats']} times (mode both, greedy, the shipped "
             "model's own answers) through the page's `/decode` endpoint of a launched "
             "`python app.py` (no browser on the machine), and in the library "
             "(`pasta_core.decode`, as `decode --mode both`). Medians; `band`: the race's "
             "noise band (`metrics.race_figures`).", "",
             "| prompt | raced by | verdicts | PASTA s | sequential s | wall | expected | band |",
             "|---|---|---|---|---|---|---|---|"]
    for label, _ in result["prompts"]:
        for way, rows in result["ways"].items():
            s = rows[label]
            verdicts = ", ".join(f"{k} {v}" for k, v in sorted(s["verdicts"].items()))
            lines.append(f"| {label} | {way} | {verdicts} | {s['pasta_wall_s']:.3f} | "
                         f"{s['sequential_wall_s']:.3f} | {s['wall']:.2f}× | "
                         f"{s['expected']:.2f}× | ±{100 * s['band']:.0f}% |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results-cpu")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--app", nargs="*", default=[], metavar="LABEL=DIR",
                    help="also race the page of the app in DIR (an older checkout), as LABEL")
    ap.add_argument("--port", type=int, default=7931)
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cases = prompts()
    apps = [("page", ROOT)] + [(s.split("=", 1)[0], Path(s.split("=", 1)[1])) for s in a.app]
    ways: dict[str, dict] = {}
    for label, app_dir in apps:
        log.info("racing the page of %s", app_dir)
        raced = page_races(app_dir, cases, a.repeats, a.port)
        ways[label] = {k: summary(v) for k, v in raced.items()}
    log.info("racing in the library")
    lm = load_model("bundled:pasta-tiny")
    ways["library"] = {label: summary(library_races(lm, prompt, a.repeats))
                       for label, prompt in cases}
    result = {"machine": cpu_machine(), "python": platform.python_version(),
              "repeats": a.repeats, "prompts": cases, "ways": ways}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "page-races.json").write_text(json.dumps(result, indent=1))
    (a.out / "page-races.md").write_text(to_markdown(result))
    print(to_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
