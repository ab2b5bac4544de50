"""The classifier two-sample test: chance for one distribution, 1.0 for two that differ, reproducible."""
import numpy as np
import pytest

from evaluation.two_sample import C2STConfig, add_noise, blur, c2st, standardise
from helpers import bench_script



def textured(n: int, seed: int) -> np.ndarray:
    """Smooth random colour fields with a little texture: a stand-in 'real' set."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 215, (n, 8, 8, 3)).astype(np.float32)
    big = base.repeat(8, axis=1).repeat(8, axis=2)
    return np.clip(big + rng.normal(0, 12, big.shape), 0, 255).astype(np.uint8)


def test_same_distribution_scores_near_chance_and_different_near_one():
    a, b = textured(200, 0), textured(200, 1)
    same = c2st(a, b, C2STConfig.quick(seed=0))
    assert same["n_per_set"] == 200 and len(same["folds"]) == 2
    assert 0.35 <= same["score"] <= 0.65, same
    smooth = c2st(blur(a, 2.0), b, C2STConfig.quick(seed=0))
    assert smooth["score"] >= 0.9, smooth


def test_reproducible_from_its_seed_and_order_free():
    a, b = textured(100, 2), add_noise(textured(100, 3), 30)
    one = c2st(a, b, C2STConfig.quick(seed=5))
    assert c2st(a, b, C2STConfig.quick(seed=5)) == one
    # the sets are shuffled before halving: sorting them differently gives the same score
    assert c2st(a[::-1], b[::-1], C2STConfig.quick(seed=5))["n_per_set"] == 100


def test_both_sets_are_compared_as_64px_jpegs_and_too_few_images_are_refused():
    out = standardise(np.zeros((2, 96, 96, 3), dtype=np.uint8))
    assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8
    with pytest.raises(ValueError, match="at least 20 images per set, got 5 and 100"):
        c2st(textured(5, 0), textured(100, 1))


def test_evaluate_cli_scores_a_folder_against_the_heldout_split(tmp_path, capsys):
    from PIL import Image

    import evaluate
    from lab.data import is_heldout

    real, gen = tmp_path / "real", tmp_path / "gen"
    real.mkdir()
    gen.mkdir()
    names = [f"{i}.jpg" for i in range(2000) if is_heldout(f"{i}.jpg")][:30]
    for k, (name, img) in enumerate(zip(names, textured(30, 0))):
        Image.fromarray(img).save(real / name)
    Image.fromarray(textured(1, 9)[0]).save(real / "0.jpg")  # a training-split face: not used
    for k, img in enumerate(blur(textured(30, 1), 2.0)):
        Image.fromarray(img).save(gen / f"{k + 1}.jpg")
    assert evaluate.main(["--generated", str(gen), "--real", str(real), "--detector", "lbpcascade",
                          "--two-sample", "--critic", "quick", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "two-sample score:" in out and "30 images per set" in out
    assert evaluate.main(["--generated", str(gen), "--real", "", "--two-sample", "--detector", "lbpcascade"]) == 2
    assert "--two-sample needs --real to be a folder" in capsys.readouterr().err


def test_the_registry_labels_checkpoints_with_their_measured_quality(tmp_path):
    import json

    from helpers import TINY, random_unet
    from lab.checkpoint import save_checkpoint
    from lab.registry import Registry

    for name in ("a", "b"):
        save_checkpoint(str(tmp_path / name), random_unet(), TINY, "cosine", 100, "v")
    (tmp_path / "a" / "report").mkdir()
    (tmp_path / "a" / "report" / "two_sample.json").write_text(json.dumps({"two_sample": {"mean": 0.7341}}))
    from demo.i18n import I18N
    from demo.ui import checkpoint_choices

    (label, name), plain = checkpoint_choices(Registry(str(tmp_path), default="a"))
    assert name == "a" and plain == ("b", "b")
    assert I18N.translations["en"][label.key] == "a · two-sample 0.73 (0.5 = like real)"
    assert I18N.translations["zh-TW"][label.key] == "a · 雙樣本分數 0.73（0.5 = 與真實無法區分）"
    # FFD (bench/ffd_calibration.py) is shown beside it once measured
    (tmp_path / "a" / "report" / "two_sample.json").write_text(json.dumps({"two_sample": {"mean": 0.7341},
                                                                           "ffd": {"mean": 0.9612}}))
    (label, _), _ = checkpoint_choices(Registry(str(tmp_path), default="a"))
    assert I18N.translations["en"][label.key] == "a · two-sample 0.73 (0.5 = like real) · FFD 0.96"


def test_evaluate_report_adds_the_two_sample_score_to_every_setting(tmp_path):
    import json

    from PIL import Image

    import evaluate
    from helpers import TINY, random_unet
    from lab.checkpoint import save_checkpoint
    from lab.data import is_heldout

    real = tmp_path / "real"
    real.mkdir()
    names = [f"{i}.jpg" for i in range(2000) if is_heldout(f"{i}.jpg")][:24]
    for name, img in zip(names, textured(24, 0)):
        Image.fromarray(img).save(real / name)
    ck = str(tmp_path / "tiny")
    save_checkpoint(ck, random_unet(std=0.05), TINY, "cosine", 100, "v")
    out = tmp_path / "report"
    assert evaluate.main(["report", "--checkpoint", ck, "--n", "24", "--sweep", "--sweep-n", "20", "--out", str(out),
                          "--real", str(real), "--detector", "lbpcascade", "--two-sample", "--critic", "quick", "--no-progress"]) == 0
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert len(rows) == 13 and all(0.0 <= r["two_sample"]["score"] <= 1.0 for r in rows)
    assert rows[0]["two_sample"]["n_per_set"] == 24 and rows[1]["two_sample"]["n_per_set"] == 20
    # the default setting is also scored on its first sweep-n images, so the plot compares settings at one n
    assert rows[0]["two_sample_first"]["n_per_set"] == 20 and "two_sample_first" not in rows[1]
    assert "(first 20: " in (out / "report.md").read_text()
    # FFD too (a Fréchet distance grows as n shrinks), with the shipped face encoder
    assert rows[0]["ffd"] is not None and rows[0]["ffd_first"]["n"] == 20 and "ffd_first" not in rows[1]
    assert rows[0]["ffd_first"]["ffd"] != rows[0]["ffd"]
    # a random tiny UNet's images are nothing like the textured faces: told apart
    assert min(r["two_sample"]["score"] for r in rows) > 0.8
    assert "| two-sample |" in (out / "report.md").read_text()
    assert (out / "quality_vs_steps.png").is_file()


def test_checkpoint_report_scores_against_the_heldout_faces(tmp_path, monkeypatch):
    """bench/checkpoint_report.py adds the two-sample score (vs the held-out split only) to its report."""
    import json
    import sys

    from PIL import Image

    from helpers import TINY, random_unet
    from lab.checkpoint import save_checkpoint
    from lab.data import is_heldout

    data = tmp_path / "faces"
    data.mkdir()
    held = [f"{i}.jpg" for i in range(2000) if is_heldout(f"{i}.jpg")][:24]
    train = [f"{i}.jpg" for i in range(100) if not is_heldout(f"{i}.jpg")][:30]
    for name, img in zip(held + train, textured(len(held) + len(train), 4)):
        Image.fromarray(img).save(data / name)
    ck = str(tmp_path / "tiny")
    save_checkpoint(ck, random_unet(std=0.05), TINY, "cosine", 100, "v")
    module = bench_script("checkpoint_report")
    monkeypatch.setattr(sys, "argv", ["checkpoint_report.py", "--checkpoint", ck, "--n", "30", "--steps", "2",
                                      "--two-sample-n", "40", "--critic", "quick",
                                      "--data", str(data), "--out", str(tmp_path / "report")])
    module.main()
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    # 40 generated (30 + 10 more) vs the 24 held-out faces (not all 54); a random UNet is told apart
    assert report["two_sample"]["n_per_set"] == 24 and report["two_sample"]["real"] == "held-out split"
    assert report["two_sample"]["score"] > 0.8
    assert (tmp_path / "report" / "grid.png").is_file()


def test_quality_merge_replaces_a_rescored_row_in_place(tmp_path):
    """bench/quality.py --merge: a re-scored checkpoint's row replaces its old row; a table measured with other
    settings is refused with a sentence saying how it was measured."""
    import json

    import pytest

    quality = bench_script("quality")
    table = tmp_path / "quality.json"
    def row(name, scores):
        return quality.row(name, [{"score": v} for v in scores])

    old = [row("real", [0.5, 0.5, 0.5]), row("anime-64 (DPM-Solver++ 20)", [0.77, 0.76, 0.77]),
           row("stylegan-64 (StyleGAN, ψ 1)", [0.87, 0.88, 0.86])]
    table.write_text(json.dumps({"n_per_set": 2000, "seeds": 3, "rows": old}))
    new = [row("anime-64 (DPM-Solver++ 20)", [0.73, 0.74, 0.73]), row("new (x)", [0.9, 0.9, 0.9])]
    rows = quality.merged(str(table), new, 2000, 3)
    assert [r["set"] for r in rows] == ["real", "anime-64 (DPM-Solver++ 20)", "stylegan-64 (StyleGAN, ψ 1)", "new (x)"]
    assert rows[1]["scores"] == [0.73, 0.74, 0.73] and rows[2] == old[2]
    with pytest.raises(SystemExit, match="measured with 2000 images and 3 seeds"):
        quality.merged(str(table), new, 2000, 1)
    with pytest.raises(SystemExit, match="no readable full table"):
        quality.merged(str(tmp_path / "none.json"), new, 2000, 3)
    assert [quality.setting_name(*a) for a in (("dpm-solver", 20, 0.0), ("ddim", 50, 1.0), ("ddpm", None, 1.0))] == \
        ["DPM-Solver++ 20", "DDIM 50, eta 1", "DDPM 1000"]


def test_nearest_leaves_a_query_itself_out_by_index():
    """checkpoint_report's nearest(): a real face drawn from the pool must not find itself (cdist's matrix-product
    path puts an image a few tenths from itself, so a zero-distance test let it through)."""
    import numpy as np

    module = bench_script("checkpoint_report")
    pool = np.random.default_rng(0).integers(0, 256, (5000, 16, 16, 3), dtype=np.uint8)  # two chunks of 4096
    pool[4500] = np.clip(pool[10].astype(int) + 3, 0, 255)  # a near-copy of 10, across the chunk border
    picks = np.array([10, 4500, 77])
    idx, dist = module.nearest(pool[picks], pool, exclude=picks)
    assert idx[0] == 4500 and idx[1] == 10 and 2 < dist[0] < 4, (idx, dist)
    assert idx[2] != 77 and dist[2] > 50
    idx, dist = module.nearest(pool[picks], pool)
    assert list(idx) == list(picks) and dist.max() < 1


def test_real_faces_are_decoded_exactly_as_training_decodes_them(tmp_path):
    """A converged critic tells box-resized real faces from bicubic ones (0.63): the real set every measure
    uses (lab.data.faces_hwc) must be the training loader's own decoding, bicubic, pixel for pixel."""
    from PIL import Image

    from lab.data import faces_hwc, is_heldout, load_images

    rng = np.random.default_rng(0)
    names = [f"{i}.jpg" for i in range(400) if is_heldout(f"{i}.jpg")][:3] + ["1.jpg", "2.jpg"]
    for name in names:
        Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(tmp_path / name)
    held = faces_hwc(str(tmp_path), "heldout")
    assert held.shape == (3, 64, 64, 3) and held.dtype == np.uint8
    as_trained = load_images(str(tmp_path), 64, log=None, split="all").permute(0, 2, 3, 1).numpy()
    order = sorted(names)
    for k, name in enumerate(n for n in order if is_heldout(n)):
        assert np.array_equal(held[k], as_trained[order.index(name)])
        with Image.open(tmp_path / name) as im:
            bicubic = np.asarray(im.convert("RGB").resize((64, 64), Image.Resampling.BICUBIC))
            box = np.asarray(im.convert("RGB").resize((64, 64), Image.Resampling.BOX))
        assert np.array_equal(held[k], bicubic) and not np.array_equal(held[k], box)


def test_the_saliency_map_points_at_where_the_sets_differ():
    """A 'generated' set that differs from the real one only in its top-left 12x12 corner: the critic's averaged
    |∂ logit / ∂ pixel| puts far more weight there than in the bottom-right corner."""
    real = textured(200, 0)
    fake = textured(200, 1)
    fake[:, :12, :12] = np.clip(fake[:, :12, :12].astype(int) + 70, 0, 255)
    out = c2st(fake, real, C2STConfig.quick(seed=0), with_saliency=True)
    sal = out["saliency"]
    assert sal.shape == (64, 64) and out["score"] > 0.8
    assert sal[:12, :12].mean() > 2 * sal[-12:, -12:].mean(), (sal[:12, :12].mean(), sal[-12:, -12:].mean())


def test_the_detail_map_finds_a_pattern_stuck_to_the_pixel_grid(tmp_path):
    """bench/diagnose.py's per-pixel detail map: detail that is stronger on every other pixel column (what a 2x
    upsampling leaves at fixed positions) raises its period-2 grid strength far above the same images'."""
    diagnose = bench_script("diagnose")
    clean = textured(60, 0)
    rng = np.random.default_rng(1)
    jitter = rng.normal(0, 10, clean.shape) * (np.arange(64) % 2 == 0)[None, None, :, None]
    gridded = np.clip(clean + jitter, 0, 255).astype(np.uint8)
    strength = {name: diagnose.grid_strength(diagnose.detail_map(x)[0]) for name, x in
                (("clean", clean), ("gridded", gridded))}
    assert strength["gridded"] > 10 * strength["clean"], strength
    stats = diagnose.plot_detail_maps({"clean": clean, "gridded": gridded}, str(tmp_path / "maps.png"))
    assert (tmp_path / "maps.png").is_file() and stats["gridded"]["grid strength (period 2)"] > 0.01


def test_early_stopping_waits_for_min_epochs():
    """A critic can sit on a plateau at chance before it finds the cue (a σ 0.5 px blur fold stopped at epoch 14
    at 0.50): with min_epochs no plateau stops it sooner."""
    import dataclasses

    a, b = textured(60, 0), textured(60, 1)
    cfg = dataclasses.replace(C2STConfig.quick(), val_fraction=0.25, patience=1, lr_drops=0, max_epochs=12)
    assert min(c2st(a, b, dataclasses.replace(cfg, min_epochs=7))["epochs"]) >= 7
    assert max(c2st(a, b, cfg)["epochs"]) <= 12


def test_quality_scores_a_student_as_generate_py_samples_it(tmp_path, monkeypatch):
    """bench/quality.py at its defaults samples each checkpoint with its own sampler (a student: the steps it was
    made for), names that setting, and writes the report the app's picker shows."""
    import argparse
    import json

    import torch
    from helpers import TINY, random_unet

    from lab import paths
    from lab.checkpoint import load_checkpoint, save_checkpoint
    from lab.pipeline import sample_images

    quality = bench_script("quality")
    ck = tmp_path / "ck" / "student"
    torch.manual_seed(0)
    save_checkpoint(str(ck), random_unet(std=0.05), TINY, "cosine", 100, "v", extra={
        "distillation": {"method": "progressive", "teacher": "t"}, "sampler": {"name": "ddim", "steps": 2, "eta": 0.0}})
    monkeypatch.setattr(paths, "CACHE", str(tmp_path / "cache"))
    seen = []
    monkeypatch.setattr(quality, "c2st_cached", lambda images, held, cfg: seen.append(images) or {"score": 0.75})
    args = argparse.Namespace(sampler=None, steps=20, eta=0.0, seeds=1, n=3, folder=str(tmp_path / "ck"),
                              critic="base", critic_config=C2STConfig())
    model = load_checkpoint(str(ck))
    result = quality.checkpoint_row(args, model, "student", np.zeros((3, 16, 16, 3), np.uint8))
    assert result["set"] == "student (DDIM 2, eta 0)" and result["scores"] == [0.75]
    assert np.array_equal(seen[0], sample_images(model, [0, 1, 2], "ddim", 2))
    report = json.loads((ck / "report" / "two_sample.json").read_text())
    assert report["setting"] == "DDIM 2, eta 0" and report["two_sample"]["mean"] == 0.75
    assert report["critic"]["min_epochs"] == C2STConfig().min_epochs and "seed" not in report["critic"]
    # another critic (--critic plateau) scores, and leaves the report the picker shows alone
    monkeypatch.setattr(quality, "c2st_cached", lambda images, held, cfg: {"score": 0.6 if cfg.detail == 0 else 0.9})
    args.critic, args.critic_config = "plateau", bench_script("critic_study").PLATEAU
    assert quality.checkpoint_row(args, model, "student", np.zeros((3, 16, 16, 3), np.uint8))["scores"] == [0.6]
    assert json.loads((ck / "report" / "two_sample.json").read_text())["two_sample"]["mean"] == 0.75


def test_critic_study_keeps_cells_under_the_variant_they_were_measured_with(tmp_path):
    """bench/critic_study.py files each stored cell by its config: a cell of the critic shipped before min_epochs
    and detail existed (no such fields, so none) is `min0`, one with today's config `base`; a cell whose config is no variant
    is dropped rather than shown under a wrong name; and two runs saving to one file keep each other's cells."""
    import dataclasses
    import json

    study = bench_script("critic_study")
    old = {k: v for k, v in dataclasses.asdict(study.MIN0).items() if k not in ("min_epochs", "detail")}
    path = tmp_path / "study.json"
    path.write_text(json.dumps({"anime-64": {"base": {"score": 0.67, "config": old},
                                             "min30": {"score": 0.66, "config": dataclasses.asdict(study.BASE)},
                                             "odd": {"score": 0.5, "config": old | {"width": 3}}}}))
    assert {v: c["score"] for v, c in study.load(str(path))["anime-64"].items()} == {"min0": 0.67, "base": 0.66}
    study.save_cell(str(path), "real vs real", "long", {"score": 0.5, "config": dataclasses.asdict(study.VARIANTS["long"])})
    study.save_cell(str(path), "anime-64", "wide", {"score": 0.65, "config": dataclasses.asdict(study.VARIANTS["wide"])})
    stored = study.load(str(path))
    assert set(stored["anime-64"]) == {"min0", "base", "wide"} and set(stored["real vs real"]) == {"long"}
    assert study.VARIANTS["long"].max_epochs == 2 * study.BASE.max_epochs  # cosine: the budget doubles
    assert study.VARIANTS["plateau-long"].min_epochs == 2 * study.PLATEAU.min_epochs > 0
    # another critic seed is another cell, "wide@2", and the seeds' spread gets a row of its own
    study.save_cell(str(path), "anime-64", "wide@2", {"score": 0.69, "folds": [0.66, 0.72],
                                                      "config": dataclasses.asdict(study.VARIANTS["wide"]) | {"seed": 2}})
    stored = study.load(str(path))
    assert stored["anime-64"]["wide@2"]["score"] == 0.69 and stored["anime-64"]["wide"]["score"] == 0.65
    stored["anime-64"]["wide"]["folds"] = [0.64, 0.66]
    assert study.seed_rows(stored) == ["| anime-64 | wide | 0.650, 0.690 | 0.670 | 0.040 | 0.060 |"]


def test_several_critics_per_fold_average_their_logits(tmp_path):
    """critics=K trains K critics per fold (epochs: K per fold) and scores their averaged logits; the same call
    gives the same score; a score cached with one critic and its last weights keeps its key now that the fields
    exist."""
    import dataclasses
    import json

    from evaluation.two_sample import c2st_cached

    a, b = textured(60, 0), blur(textured(60, 1), 2.0)
    cfg = dataclasses.replace(C2STConfig.quick(seed=3), critics=2)
    two = c2st(a, b, cfg)
    assert len(two["epochs"]) == 4 and two == c2st(a, b, cfg) and two["score"] > 0.8
    c2st_cached(a, b, C2STConfig.quick(seed=3), cache_dir=str(tmp_path))
    (stored,) = tmp_path.iterdir()
    import hashlib  # the key as it was before `critics`, `ema`, `schedule`, `detail`, `norm`, … existed

    key = {k: v for k, v in dataclasses.asdict(C2STConfig.quick(seed=3)).items()
           if k not in ("critics", "ema", "schedule", "detail", "norm", "stem_stats", "rotate", "pick", "pixel",
                        "pixel_iter")}
    h = hashlib.sha256(json.dumps(key | {"numerics": "channels_last"}, sort_keys=True).encode())
    for images in (a, b):
        h.update(str(images.shape).encode())
        h.update(np.ascontiguousarray(images).tobytes())
    assert stored.name == h.hexdigest()[:24] + ".json"


def test_the_critic_judged_is_the_moving_average_of_its_weights():
    """With ema the critic returned (and early-stopped on) is the average of the weights along training: its
    parameters differ from the last step's yet lie near them; with ema 0 it is the last (best) weights."""
    import dataclasses

    from evaluation.two_sample import _fit

    a, b = textured(40, 0), blur(textured(40, 1), 2.0)
    import torch

    x = torch.cat([torch.from_numpy(v).permute(0, 3, 1, 2).float() / 127.5 - 1 for v in (a, b)])
    y = torch.cat([torch.zeros(40), torch.ones(40)])
    cfg = dataclasses.replace(C2STConfig.quick(), max_epochs=3, ema=0.9)
    averaged, _ = _fit(x, y, cfg, torch.Generator().manual_seed(0))
    last, _ = _fit(x, y, dataclasses.replace(cfg, ema=0.0), torch.Generator().manual_seed(0))
    pairs = list(zip(averaged.parameters(), last.parameters()))
    assert any(not torch.equal(p, q) for p, q in pairs)  # same init, same batches: only the averaging differs
    gap = sum((p - q).norm() for p, q in pairs) / sum(q.norm() for _, q in pairs)
    assert gap < 0.2, gap


def test_critic_curve_follows_one_fold_epoch_by_epoch(tmp_path):
    """bench/critic_curve.py: per epoch, the held-out accuracy of the last weights and of their average (what c2st
    scores), and the plot of both; on two sets that differ plainly the average ends far above chance."""
    import dataclasses

    module = bench_script("critic_curve")
    cfg = dataclasses.replace(C2STConfig.quick(), val_fraction=0.25, ema=0.5)
    rows = module.curve(textured(60, 0), blur(textured(60, 1), 2.0), cfg, 6)
    assert [r["epoch"] for r in rows] == list(range(1, 7))
    assert rows[-1]["accuracy_average"] >= 0.8, rows[-1]
    assert all(0 <= r["accuracy_last"] <= 1 and r["val_loss_average"] > 0 for r in rows)
    module.plot(rows, "test", str(tmp_path / "curve.png"))
    assert (tmp_path / "curve.png").stat().st_size > 10_000


def test_a_cosine_critic_trains_its_whole_budget_and_a_bad_schedule_is_refused():
    """schedule="cosine": no stopping, every epoch of max_epochs trained (the lr falls to 0), still telling two
    plainly different sets apart; an unknown schedule is one sentence naming the allowed ones."""
    import dataclasses

    a, b = textured(60, 0), blur(textured(60, 1), 2.0)
    cfg = dataclasses.replace(C2STConfig.quick(), schedule="cosine", val_fraction=0.25)
    out = c2st(a, b, cfg)
    assert out["epochs"] == [8, 8] and out["score"] >= 0.8, out
    with pytest.raises(ValueError, match="plateau or cosine"):
        c2st(a, b, dataclasses.replace(cfg, schedule="step"))
    with pytest.raises(ValueError, match=r"critics must be >= 1 and ema in \[0, 1\)"):
        c2st(a, b, dataclasses.replace(cfg, ema=1.0))


def test_the_fine_grain_view_finds_half_a_pixel_of_blur_the_picture_alone_misses():
    """detail > 0: the critic sees image − 3x3 blur beside the image. Textured fields blurred by σ 0.5 px are told
    apart by it in a quick critic's budget, where the same critic on the picture alone stays near chance; a flat
    image has no fine grain."""
    import dataclasses

    import torch

    from evaluation.two_sample import _binomial_blur

    a, b = textured(200, 0), blur(textured(200, 1), 0.5)
    cnn = dataclasses.replace(C2STConfig.quick(seed=0), pixel=0)  # the CNN's views alone
    picture = c2st(a, b, cnn)["score"]
    grain = c2st(a, b, dataclasses.replace(cnn, detail=8.0))
    assert grain["score"] > 0.9 and picture < 0.7, (grain["score"], picture)
    assert grain["config"]["detail"] == 8.0 and C2STConfig().detail > 0
    flat = torch.full((1, 3, 8, 8), 0.3)
    assert torch.allclose(_binomial_blur(flat), flat)


def test_a_cached_score_keeps_its_saliency_map_and_one_stored_without_it_is_recomputed_to_the_same_score(tmp_path):
    """bench/diagnose.py resumes from the cache, its saliency maps included."""
    from evaluation.two_sample import c2st_cached

    a, b = textured(40, 0), blur(textured(40, 1), 2.0)
    cfg = C2STConfig.quick(seed=1)
    plain = c2st_cached(a, b, cfg, cache_dir=str(tmp_path))
    assert "saliency" not in plain
    fresh = c2st_cached(a, b, cfg, cache_dir=str(tmp_path), with_saliency=True)  # stored without: computed again
    assert fresh["score"] == plain["score"] and fresh["saliency"].shape == (64, 64)
    again = c2st_cached(a, b, cfg, cache_dir=str(tmp_path), with_saliency=True)  # now from the file
    assert again["seconds"] == fresh["seconds"] and np.allclose(again["saliency"], fresh["saliency"])
    # a plain call on a score stored with its map gets the score alone (bench/critic_study.py writes it as JSON)
    assert "saliency" not in c2st_cached(a, b, cfg, cache_dir=str(tmp_path))
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".json"] == []  # no half-written file left


def test_a_critic_without_groupnorm_keeps_each_images_scale_and_refuses_an_unknown_norm():
    """norm="none": no GroupNorm (which rescales every image's activations, so an overall grain level or colour
    cast reaches the head only through the stem's nonlinearity), He-initialised so that activations keep their
    scale; its features change with the image's contrast where the GroupNorm critic's barely do."""
    import torch
    from torch import nn

    from evaluation.two_sample import Critic

    torch.manual_seed(0)
    none, group = Critic(8, 1, norm="none"), Critic(8, 1)
    assert not any(isinstance(m, nn.GroupNorm) for m in none.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in group.modules())
    x = torch.rand(4, 3, 64, 64) - 0.5
    with torch.no_grad():
        feat = [(c.features(c.stem(x)).mean(dim=(2, 3)), c.features(c.stem(2 * x)).mean(dim=(2, 3))) for c in (none, group)]
        spread = float(none.features(none.stem(x)).std())
    ratio = [float(f2.norm() / f1.norm()) for f1, f2 in feat]
    assert 1.8 < ratio[0] < 2.2 and abs(ratio[1] - 1) < 0.1, ratio  # positively homogeneous vs normalised away
    assert 0.1 < spread < 10, spread  # He init: neither vanishing nor exploding through 5 convs
    with pytest.raises(ValueError, match="norm must be group or none, got 'batch'"):
        Critic(8, 1, norm="batch")
    with pytest.raises(ValueError, match="norm must be group, none or both"):
        c2st(textured(20, 0), textured(20, 1), C2STConfig(norm="batch"))


def test_both_norms_train_one_critic_of_each_per_fold_and_average_their_logits():
    import dataclasses

    a, b = textured(40, 0), blur(textured(40, 1), 2.0)
    cfg = dataclasses.replace(C2STConfig.quick(seed=2), norm="both")
    out = c2st(a, b, cfg)
    assert len(out["epochs"]) == 4 and out == c2st(a, b, cfg) and out["score"] > 0.8, out


def test_stem_stats_let_a_groupnorm_critic_see_an_images_contrast_that_groupnorm_takes_out():
    """With every conv bias at zero a GroupNorm critic is blind to an image's overall contrast (its logit for 2x is
    its logit for x: GroupNorm divides the scale out); with `stem_stats` the stem's pooled responses reach the head
    before any norm, so the same change moves the logit."""
    import torch
    from torch import nn

    from evaluation.two_sample import Critic

    x = torch.rand(4, 3, 64, 64) - 0.5
    logits = {}
    for stats in (False, True):
        torch.manual_seed(0)
        critic = Critic(8, 1, detail=8.0, stem_stats=stats)
        assert critic.head.in_features == 32 + (8 if stats else 0)
        with torch.no_grad():
            for m in critic.modules():
                if isinstance(m, nn.Conv2d):
                    m.bias.zero_()
            logits[stats] = (critic(x), critic(2 * x))
    blind, seeing = logits[False], logits[True]
    assert torch.allclose(blind[0], blind[1], atol=1e-3), blind
    assert float((seeing[0] - seeing[1]).abs().min()) > 1e-2, seeing


def test_rotate_turns_each_training_image_by_its_own_quarter_turn_and_keeps_it_otherwise_whole():
    """rotate=True: every augmented image is one of its input's 8 symmetries (the square's), each drawn per image;
    without it only the mirror image occurs."""
    import torch

    from evaluation.two_sample import _augment

    x = torch.randn(64, 3, 8, 8)
    gen = torch.Generator().manual_seed(0)

    def orientation(src: torch.Tensor, out: torch.Tensor) -> int:
        found = [k + 4 * f for f in (0, 1) for k in range(4)
                 if torch.equal(torch.rot90(src.flip(-1) if f else src, k, dims=(1, 2)), out)]
        assert found, "an augmented image is not a symmetry of its input"
        return found[0]

    turned = {orientation(a, b) for a, b in zip(x, _augment(x, C2STConfig(rotate=True), gen))}
    mirrored = {orientation(a, b) for a, b in zip(x, _augment(x, C2STConfig(), gen))}
    assert len(turned) == 8 and mirrored == {0, 4}, (turned, mirrored)


def test_pick_keeps_the_critic_most_accurate_on_the_inner_validation_split(monkeypatch):
    """pick=K trains K critics per fold and judges with the one most accurate on an inner validation split, never
    looking at the test half: here the candidates are fixed rules (always 'real'; brightness, which tells the two
    sets apart; its opposite), so the pick, and the score, are known in any order."""
    import dataclasses

    import torch

    from evaluation import two_sample

    class Rule(torch.nn.Module):
        def __init__(self, sign: float):
            super().__init__()
            self.sign = sign

        def forward(self, x):  # x in [-1, 1]; the bright set is the real one (label 1)
            return self.sign * x.mean(dim=(1, 2, 3)) if self.sign else torch.ones(len(x))

    dark, bright = np.full((40, 64, 64, 3), 60, np.uint8), np.full((40, 64, 64, 3), 200, np.uint8)
    cfg = dataclasses.replace(C2STConfig.quick(seed=1), pick=3, val_fraction=0.25)
    for signs in ([0.0, 1.0, -1.0], [-1.0, 0.0, 1.0], [1.0, -1.0, 0.0]):
        calls = []

        def fake_fit(x, y, cfg, gen, split=None, signs=signs):
            val, fit = split
            assert len(val) == 10 and len(fit) == 30 and not set(val.tolist()) & set(fit.tolist())
            calls.append(split)
            return Rule(signs[len(calls) % 3 - 1]), 7

        monkeypatch.setattr(two_sample, "_fit", fake_fit)
        out = two_sample.c2st(dark, bright, cfg)
        assert out["score"] == 1.0 and out["epochs"] == [7] * 6 and len(calls) == 6
        assert all(torch.equal(calls[0][0], c[0]) for c in calls[:3])  # one validation split per fold
    with pytest.raises(ValueError, match=r"picking among critics needs val_fraction in \(0, 1\)"):
        c2st(dark, bright, dataclasses.replace(C2STConfig.quick(), pick=2))


def test_pick_trains_every_candidate_and_is_reproducible():
    import dataclasses

    a, b = textured(60, 0), blur(textured(60, 1), 2.0)
    cfg = dataclasses.replace(C2STConfig.quick(seed=2), pick=2, val_fraction=0.25)
    out = c2st(a, b, cfg)
    assert len(out["epochs"]) == 4 and out == c2st(a, b, cfg) and out["score"] > 0.8


def test_diagnose_scores_only_the_views_asked_for_and_names_them_when_one_is_unknown(monkeypatch, capsys):
    import sys

    diagnose = bench_script("diagnose")
    assert list(diagnose.VIEW_KEYS) == ["as-is", "layout", "detail", "grey"]
    assert list(diagnose.VIEW_KEYS.values()) == list(diagnose.VIEWS)
    monkeypatch.setattr(sys, "argv", ["diagnose.py", "--views", "as-is,colour"])
    with pytest.raises(SystemExit):
        diagnose.main()
    assert "--views takes as-is, layout, detail, grey, comma-separated; got 'as-is,colour'" in capsys.readouterr().err


def test_critic_study_can_give_a_checkpoints_faces_the_real_faces_jpeg_history(monkeypatch):
    """"NAME as 96 px JPEG q75": the checkpoint's faces, resized to 96 px and saved as JPEG q75 (4:2:0) as the data
    set's faces were, so a critic cannot tell them by the real faces' block traces alone."""
    study = bench_script("critic_study")
    faces = blur(textured(3, 0), 1.0)
    monkeypatch.setattr(study, "generated", lambda name, n, folder: faces if name == "anime-64" else None)
    sets = study.make_sets(["anime-64 as 96 px JPEG q75"], 3)
    out = sets["anime-64 as 96 px JPEG q75"]
    assert out.shape == (3, 96, 96, 3) and out.dtype == np.uint8
    from PIL import Image

    back = np.stack([np.asarray(Image.fromarray(x).resize((64, 64), Image.Resampling.BICUBIC)) for x in out])
    error = np.abs(back.astype(int) - faces.astype(int))
    other = np.abs(back.astype(int) - blur(textured(3, 1), 1.0).astype(int))
    assert 0 < error.mean() < 0.25 * other.mean()  # the same faces, with a JPEG's losses
