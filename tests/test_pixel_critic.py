"""The pixel-statistics critic: known features, a faint colour cast found in every fold, and the two-sample score
as the better of it and the CNN on the same halves."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from evaluation.pixel_critic import FEATURE_SET, is_current, pixel_critic_folds, pixel_features
from evaluation.two_sample import C2STConfig, blur, c2st, c2st_cached, colour_shift, prepare, with_pixel_critic
from helpers import bench_script


def textured(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    big = rng.integers(40, 215, (n, 8, 8, 3)).astype(np.float32).repeat(8, axis=1).repeat(8, axis=2)
    return np.clip(big + rng.normal(0, 12, big.shape), 0, 255).astype(np.uint8)


def test_features_of_a_flat_image_are_known_and_resolution_doubles_the_bins():
    flat = np.full((1, 64, 64, 3), 100, dtype=np.uint8)
    flat[..., 2] = 255  # blue at white: the brightest-level bins see it alone
    f = pixel_features(flat)
    assert f.shape == (1, 705) and pixel_features(flat, 2).shape == (1, 1537)
    red = f[0, :48]  # 32 value bins, the 8 darkest levels, the 8 brightest
    assert red[100 // 8] == 1 and red.sum() == 1
    blue = f[0, 96:144]
    assert blue[31] == 1 and blue[32 + 8 + 7] == 1 and blue[32:40].sum() == 0
    r_minus_b = f[0, 144:208]  # red − blue = −155, in bin (−155 + 256) // 8
    assert r_minus_b[(256 - 155) // 8] == 1
    grain_red = f[0, 336:376]  # a flat image has no grain: every pixel in the bin [0, 1)
    assert grain_red[20] == 1
    energy = f[0, 456:488]  # the grain's local energy: none, in the lowest bin (log 1e-3)
    assert energy[0] == 1 and energy.sum() == 1
    flat_red = f[0, 488:528]  # every pixel ties for flattest: all of them, in [0, 0.25), over a tenth of the pixels
    assert flat_red[20] == 10 and flat_red.sum() == 10
    sharpness = f[0, 608:640]  # every pixel ties for steepest: log(1e-3 / 1e-3) = 0, bin (0 + 8) * 32 // 10
    assert sharpness[25] == 10 and sharpness.sum() == 10
    assert f[0, 640:704].sum() == 0 and f[0, 704] == 0  # no grain in any block position
    with pytest.raises(ValueError, match="resolution must be 1 or more"):
        pixel_features(flat, 0)


def test_a_colour_cast_of_4_levels_is_found_in_both_folds_and_the_same_distribution_is_not():
    a, b = textured(300, 0), textured(300, 1)
    cast = pixel_critic_folds(*prepare(colour_shift(a, 4), b, torch.Generator().manual_seed(0)), seed=0)
    same = pixel_critic_folds(*prepare(a, b, torch.Generator().manual_seed(0)), seed=0)
    assert min(cast["folds"]) >= 0.75, cast  # the cast moves each image's mean red − blue by 8 of ±9 (its spread)
    assert 0.4 <= same["score"] <= 0.6, same
    # convex: once converged, twice the iterations give the same critic
    longer = pixel_critic_folds(*prepare(colour_shift(a, 4), b, torch.Generator().manual_seed(0)), seed=0,
                                max_iter=1000)
    assert longer["folds"] == cast["folds"]


def test_a_faint_noise_is_found_where_the_image_is_flat_and_not_without_those_features(monkeypatch):
    """Noise of σ 1/255 on images with a coarse texture over seven eighths of each and flat colour on the rest (as
    anime faces are flat between their lines): the grain where the image is flattest carries it (both folds
    ≥ 0.9); feature set 1, whose grain histogram pools the whole image, finds it in about three of four."""
    import evaluation.pixel_critic as pixel_critic

    rng = np.random.default_rng(3)

    def drawn(n: int) -> np.ndarray:  # flat 16 px colour blocks, the left 56 columns textured (σ 10)
        x = rng.integers(30, 225, (n, 4, 4, 3)).astype(np.float32).repeat(16, axis=1).repeat(16, axis=2)
        x[:, :, :56] += rng.normal(0, 10, (n, 64, 56, 3))
        return x

    clean = np.clip(drawn(300), 0, 255).round().astype(np.uint8)
    noisy = np.clip(drawn(300) + rng.normal(0, 1, (300, 64, 64, 3)), 0, 255).round().astype(np.uint8)
    sets = prepare(noisy, clean, torch.Generator().manual_seed(0))
    out = pixel_critic_folds(*sets, seed=0)
    assert min(out["folds"]) >= 0.9 and out["feature_set"] == FEATURE_SET, out
    every = pixel_critic.pixel_features  # feature set 1: the columns before the local energy, and the block positions
    monkeypatch.setattr(pixel_critic, "pixel_features", lambda x, r=1: every(x, r)[:, np.r_[0:456, 640:705]])
    assert max(pixel_critic_folds(*sets, seed=0)["folds"]) < 0.85


def test_a_stored_pixel_critic_with_older_features_is_computed_again_and_the_cnn_kept():
    a, b = textured(120, 9), textured(120, 10)
    cfg = C2STConfig.quick(seed=3)
    now = c2st(colour_shift(a, 4), b, cfg)
    old = now | {"score": 0.99, "pixel": {"score": 0.99, "folds": [0.99, 0.99]}}  # stored before feature sets
    assert is_current(now["pixel"]) and not is_current(old["pixel"])
    again = with_pixel_critic(old, *prepare(colour_shift(a, 4), b, torch.Generator().manual_seed(3)), cfg)
    assert again == now


def test_the_two_sample_score_is_the_better_critic_on_the_same_halves():
    a, b = textured(200, 2), textured(200, 3)
    cnn_only = c2st(colour_shift(a, 4), b, dataclasses.replace(C2STConfig.quick(seed=1), pixel=0))
    both = c2st(colour_shift(a, 4), b, C2STConfig.quick(seed=1))
    assert "pixel" not in cnn_only and both["cnn"] == {"score": cnn_only["score"], "folds": cnn_only["folds"]}
    assert both["epochs"] == cnn_only["epochs"]  # the CNN is trained as without the pixel critic
    assert both["score"] == max(both["cnn"]["score"], both["pixel"]["score"])
    assert both["judge"] == "pixel" and both["folds"] == both["pixel"]["folds"]
    smooth = c2st(blur(a, 2.0), b, C2STConfig.quick(seed=1))  # a blur any critic sees: the tie goes to the CNN
    assert smooth["score"] >= max(smooth["cnn"]["score"], smooth["pixel"]["score"])
    with pytest.raises(ValueError, match="pixel must be 0"):
        c2st(a, b, dataclasses.replace(C2STConfig.quick(), pixel=-1))


def test_a_cached_cnn_score_gains_the_pixel_critic_on_the_halves_it_was_scored_on(tmp_path):
    a, b = colour_shift(textured(80, 4), 4), textured(80, 5)
    cfg = C2STConfig.quick(seed=2)
    cached = c2st_cached(a, b, cfg, cache_dir=str(tmp_path))
    again = c2st_cached(a, b, cfg, cache_dir=str(tmp_path))  # the CNN from the file, the pixel critic anew
    direct = c2st(a, b, cfg)
    (stored,) = tmp_path.iterdir()  # the file holds the CNN's part only: the pixel critic is added on each call
    on_disk = json.loads(stored.read_text())
    assert "pixel" not in on_disk and on_disk["config"]["pixel"] == 0 and on_disk["score"] == direct["cnn"]["score"]
    for out in (cached, again):
        assert out["score"] == direct["score"] and out["pixel"] == direct["pixel"] and out["cnn"] == direct["cnn"]
    # the study gives a cell stored before the pixel critic existed the same critic beside it
    study = bench_script("critic_study")
    old = {k: v for k, v in dataclasses.asdict(study.BASE).items() if k not in ("pixel", "pixel_iter")}
    assert study.variant_of(old) == "base" and study.VARIANTS["wide"].pixel == 2 * study.BASE.pixel
    assert study.VARIANTS["long"].pixel_iter == 2 * study.BASE.pixel_iter and study.VARIANTS["plateau"].pixel == 0
    assert "pixel; CNN" in study.cell(direct | {"minutes": 0.1})


def test_quality_add_pixel_puts_the_pixel_critic_beside_each_stored_cnn_score_and_rewrites_the_report(
        tmp_path, monkeypatch):
    """bench/quality.py --add-pixel: no CNN is trained again; each stored seed's score becomes the better of it and
    the pixel critic's on the same halves, and the checkpoint's report (the picker's) says so and keeps its FFD."""
    import argparse
    import json

    quality = bench_script("quality")
    real, fake = textured(200, 6), colour_shift(textured(200, 7), 4)
    other = textured(200, 8)  # the second seed's "generated" faces: another draw of the real ones' distribution
    monkeypatch.setattr(quality, "cached_images", lambda model, name, n, first: fake if first == 0 else other)
    monkeypatch.setattr(quality, "Registry", lambda folder: argparse.Namespace(model=lambda name: None))
    stored = {"set": "student (DDIM 2, eta 0)", "scores": [0.55, 0.52], "mean": 0.535, "spread": 0.03,
              "checkpoint": "student", "steps_trained": 10, "split": "train"}
    (tmp_path / "quality.json").write_text(json.dumps({"n_per_set": 200, "seeds": 2, "rows": [stored]}))
    report = tmp_path / "ck" / "student" / "report" / "two_sample.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"two_sample": stored, "ffd": {"mean": 0.7}}))
    args = argparse.Namespace(out=str(tmp_path), folder=str(tmp_path / "ck"))
    (row,) = quality.add_pixel(args, real)
    pixel = pixel_critic_folds(*prepare(fake, real, torch.Generator().manual_seed(0)), seed=0)["score"]
    assert row["cnn_scores"] == [0.55, 0.52] and row["pixel_scores"][0] == pixel > 0.75
    assert row["scores"] == [max(c, p) for c, p in zip(row["cnn_scores"], row["pixel_scores"])]
    assert 0.35 < row["pixel_scores"][1] < 0.65
    written = json.loads(report.read_text())
    assert written["two_sample"] == row and written["ffd"] == {"mean": 0.7} and written["critic"]["pixel"] == 1
    # a row scored by an older set of features is scored again from its CNN scores; a current one is left alone
    older = row | {"pixel_feature_set": 1, "pixel_scores": [0.6, 0.5], "scores": [0.6, 0.55]}
    (tmp_path / "quality.json").write_text(json.dumps({"n_per_set": 200, "seeds": 2, "rows": [older]}))
    assert quality.add_pixel(args, real) == [row]
    (tmp_path / "quality.json").write_text(json.dumps({"n_per_set": 200, "seeds": 2, "rows": [row | {"mean": 2}]}))
    assert quality.add_pixel(args, real) == [row | {"mean": 2}]
