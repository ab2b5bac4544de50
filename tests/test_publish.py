"""scripts/publish_space.py uploads only what the Space needs, through HfApi.upload_folder."""
import os

import pytest

from helpers import bench_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
publish_space = bench_script("publish_space", "scripts")


def test_dry_run_lists_what_the_space_needs_and_nothing_else(capsys):
    assert publish_space.main(["--repo", "someone/anime-lab", "--dry-run"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[-1] for line in out.splitlines()[:-1]]
    for needed in ("app.py", "requirements.txt", "packages.txt", "docs/app_phone_compare.png", "README.md", "LICENSE", "diffusion/unet.py", "lab/pipeline.py",
                   "demo/generate.py", "gan/stylegan.py", "evaluation/detect.py", "checkpoints/anime-64/config.json",
                   "checkpoints/anime-64/model.safetensors", "checkpoints/stylegan-64/model.safetensors",
                   "checkpoints/anime-64-fast/config.json", "checkpoints/anime-64-fast/model.safetensors",
                   "checkpoints/afd-yolov8n/detector.json", "checkpoints/lbpcascade_animeface.xml",
                   "docs/app_generate.png",
                   # what the app reads: the picker's two-sample scores, Compare's quality-vs-steps plot
                   "checkpoints/anime-64/report/two_sample.json", "checkpoints/stylegan-64/report/two_sample.json",
                   "checkpoints/anime-64/eval/quality_vs_steps.png", "checkpoints/anime-64/eval/quality_vs_steps.zh-TW.png",
                   # FFD's encoder and the held-out statistics: grading an upload needs no real face on the Space
                   "checkpoints/face-encoder/config.json", "checkpoints/face-encoder/model.safetensors",
                   "checkpoints/face-encoder/heldout_stats.safetensors"):
        assert needed in listed, needed
    for path in listed:
        assert not path.startswith(("tests/", "bench/", "scripts/", ".ci/", "runs/")), path
        assert path not in ("train.py", "train_gan.py", "generate.py", "evaluate.py", "requirements-dev.txt"), path
        assert not path.endswith(("log.jsonl", "loss.png", "results.csv")) and "/samples/" not in path, path
    sizes = sum(os.path.getsize(os.path.join(ROOT, p)) for p in listed)
    assert sizes < 40 * 2**20 and f"{len(listed)} files" in out.splitlines()[-1]


def test_upload_is_one_folder_upload_of_exactly_those_files(monkeypatch, capsys):
    import huggingface_hub

    calls = {}

    class FakeApi:
        def create_repo(self, repo_id, **kw):
            calls["create"] = (repo_id, kw)

        def upload_folder(self, **kw):
            calls["files"] = sorted(os.path.relpath(os.path.join(d, f), kw["folder_path"])
                                    for d, _, fs in os.walk(kw["folder_path"]) for f in fs)
            calls["upload"] = kw
            return type("Info", (), {"commit_url": "https://huggingface.co/spaces/someone/anime-lab/commit/1"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert publish_space.main(["--repo", "someone/anime-lab"]) == 0
    assert calls["create"] == ("someone/anime-lab", {"repo_type": "space", "space_sdk": "gradio", "private": False,
                                                     "exist_ok": True})
    assert calls["upload"]["repo_type"] == "space" and calls["upload"]["delete_patterns"] == "*"
    assert calls["files"] == publish_space.space_files()
    with pytest.raises(SystemExit):
        publish_space.main(["--repo", "not a repo"])
