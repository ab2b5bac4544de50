"""DiffAugment (gan/diffaugment.py): each transform does what it says on images with known answers, lets
gradients through, and train_gan.py uses it."""
import pytest
import torch

from gan.diffaugment import check_policy, color, cutout, diff_augment, translation


def test_translation_moves_a_pixel_by_whole_pixels_within_the_ratio():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    y = translation(x, ratio=0.125)  # at most 2 pixels on 16
    assert y.shape == x.shape and torch.equal(y.sum(dim=(1, 2, 3)), torch.ones(64))  # moved, not lost or blurred
    where = torch.nonzero(y[:, 0])  # (image, row, col) of the moved pixel
    shifts = {(int(r) - 8, int(c) - 8) for _, r, c in where}
    assert all(abs(dy) <= 2 and abs(dx) <= 2 for dy, dx in shifts) and len(shifts) > 5
    edge = torch.ones(64, 1, 16, 16)  # shifting an all-ones image brings in zeros at the border, never wraps
    moved = translation(edge)
    assert ((moved == 0) | (moved == 1)).all() and (moved == 0).any()


def test_cutout_zeroes_one_square_of_half_the_side():
    torch.manual_seed(1)
    y = cutout(torch.ones(200, 3, 16, 16), ratio=0.5)
    zeros = (y[:, 0] == 0).sum(dim=(1, 2))
    assert zeros.max() == 64 and zeros.min() > 0  # 8x8 inside the image; smaller where it reaches over the edge
    assert torch.equal(y[:, 0], y[:, 2])  # the same square in every channel


def test_color_changes_each_image_differently_and_keeps_shape():
    torch.manual_seed(2)
    x = torch.rand(8, 3, 8, 8) * 2 - 1
    y = color(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    assert len({round(float(d), 4) for d in (y - x).mean(dim=(1, 2, 3))}) == 8


def test_gradients_pass_through_and_policy_is_checked():
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    diff_augment(x, "color,translation,cutout").square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(diff_augment(x, ""), x)
    assert check_policy(" color , cutout ") == ["color", "cutout"]
    with pytest.raises(ValueError, match=r"DiffAugment policy names 'rotate'; allowed: color, translation, cutout"):
        diff_augment(x, "color,rotate")


def test_train_gan_refuses_an_unknown_policy_and_trains_with_one(tmp_path):
    import train_gan
    from helpers import write_faces

    with pytest.raises(SystemExit):
        train_gan.parse_args(["--diffaugment", "zoom"])
    write_faces(str(tmp_path / "faces"), n=8, size=16)
    cfg = train_gan.parse_args(["--data", str(tmp_path / "faces"), "--out", str(tmp_path / "run"), "--image-size", "16",
                                "--channels", "16", "--min-channels", "8", "--d-channels", "16", "--z-dim", "16",
                                "--w-dim", "16", "--mapping-layers", "2", "--batch-size", "4", "--max-steps", "3",
                                "--diffaugment", "color,translation,cutout", "--no-progress", "--sample-every", "100",
                                "--save-every", "3", "--no-exclude-heldout"])
    assert train_gan.train(cfg) == 3  # the last step
    import json

    with open(tmp_path / "run" / "config.json") as f:
        assert json.load(f)["training"]["diffaugment"] == "color,translation,cutout"


def test_diffaugment_is_on_by_default_but_a_run_saved_before_it_resumes_without():
    import dataclasses

    import train_gan
    from training.plumbing import resumed_config

    cfg = train_gan.parse_args(["--out", "x", "--resume"])
    assert cfg.diffaugment == "color,translation,cutout"
    old = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "diffaugment"}  # written before the flag
    assert resumed_config(cfg, {"config": old}).diffaugment == ""
    assert train_gan.parse_args(["--diffaugment", ""]).diffaugment == ""
