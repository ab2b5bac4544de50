"""Publish the app to a Hugging Face Space: only what the Space runs, uploaded through huggingface_hub.

    python scripts/publish_space.py --repo USER/NAME --dry-run     # list the files and their sizes
    HF_TOKEN=hf_... python scripts/publish_space.py --repo USER/NAME

A plain `git push` of this repository to the Hub is rejected (the weights are plain git blobs, not LFS);
`HfApi.upload_folder` stores large files the Hub's way. The upload is one commit that also deletes files
the Space no longer needs. What goes: app.py, requirements.txt, the README (its front matter configures the
Space) and the images it shows, the LICENSE, the packages the app imports, and each shipped checkpoint's
config, weights and report. What stays: tests, benchmarks, training scripts and logs, sample grids.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from lab import paths

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP_FILES = ("app.py", "requirements.txt", "packages.txt", "README.md", "LICENSE")
PACKAGES = ("diffusion", "gan", "evaluation", "lab", "demo")
# the app reads a checkpoint's two-sample score (its picker) and quality-vs-steps plot (Compare) from these
CHECKPOINT_FILES = ("config.json", "model.safetensors", "detector.json", "heldout_stats.safetensors",
                    os.path.join(paths.REPORT, "report.json"), paths.TWO_SAMPLE, paths.QUALITY_VS_STEPS,
                    paths.QUALITY_VS_STEPS_ZH)
CHECKPOINT_TOP = ("lbpcascade_animeface.xml",)


def tracked() -> set[str]:
    """Files git tracks (so nothing ignored or private, e.g. a local .venv or a stray zip, can slip in)."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {p for p in out.split("\0") if p}


def readme_images(readme: str) -> set[str]:
    with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
        text = f.read()
    found = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text) + re.findall(r"<img [^>]*src=\"([^\"]+)\"", text)
    return {m for m in found if not m.startswith("http")}


def space_files() -> list[str]:
    """The repository paths the Space needs, sorted."""
    files = tracked()
    keep = set(TOP_FILES) | readme_images("README.md")
    for path in files:
        top = path.split("/", 1)[0]
        if top in PACKAGES and path.endswith(".py"):
            keep.add(path)
        elif top == "checkpoints":
            parts = path.split("/")
            if (len(parts) == 2 and parts[1] in CHECKPOINT_TOP) or "/".join(parts[2:]) in CHECKPOINT_FILES \
                    or (parts[1] == "playground" and path.endswith(".safetensors")):  # the playground's models
                keep.add(path)
    return sorted(p for p in keep if p in files)


def human(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", required=True, help="the Space, as USER/NAME")
    p.add_argument("--dry-run", action="store_true", help="only list the files and their sizes")
    p.add_argument("--private", action="store_true", help="create the Space private (when it does not exist)")
    args = p.parse_args(argv)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repo):
        p.error(f"--repo must look like USER/NAME, got {args.repo!r}")
    files = space_files()
    total = 0
    for path in files:
        size = os.path.getsize(os.path.join(ROOT, path))
        total += size
        print(f"{human(size):>10}  {path}")
    print(f"{len(files)} files, {human(total)} → https://huggingface.co/spaces/{args.repo}")
    if args.dry_run:
        return 0
    from huggingface_hub import HfApi

    api = HfApi()
    with tempfile.TemporaryDirectory(prefix="space-") as stage:
        for path in files:
            os.makedirs(os.path.dirname(os.path.join(stage, path)) or stage, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, path), os.path.join(stage, path))
        api.create_repo(args.repo, repo_type="space", space_sdk="gradio", private=args.private, exist_ok=True)
        info = api.upload_folder(repo_id=args.repo, repo_type="space", folder_path=stage, delete_patterns="*",
                                 commit_message="Publish Anime Face Diffusion Lab")
    print(f"published: {info.commit_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
