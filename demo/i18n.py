"""English and Traditional Chinese (Taiwan) for the app's labels, chosen by the browser's language (gr.I18n).

`T("Number of images")` returns a key Gradio's frontend translates; the code keeps its English text readable,
and the key is derived from it. Every string wrapped in T must have a zh-TW entry here (tested).
"""
from __future__ import annotations

import hashlib

import gradio as gr

ZH_TW: dict[str, str] = {
    # tabs
    "Generate": "生成", "Forward process": "前向過程", "Denoising": "去噪過程", "DDIM compare": "DDIM 比較",
    "Interpolation": "內插", "Detect (AFD)": "偵測 (AFD)", "Batch": "批次", "Diffusion vs GAN": "擴散 vs GAN",
    # buttons
    "Show": "顯示", "Denoise": "去噪", "Compare": "比較", "Interpolate": "內插", "Detect": "偵測",
    "Generate batch": "批次生成", "Stop": "停止", "Link to this view": "此畫面的連結",
    # inputs
    "Seed (the images use seeds seed, seed+1, …)": "種子（各圖依序使用種子 seed, seed+1, …）",
    "Randomize seed": "隨機種子", "Number of images": "圖片數量", "Sampler": "取樣器",
    "Steps (DDPM always uses all 1000)": "步數（DDPM 固定使用全部 1000 步）",
    "eta (DDIM: 0 deterministic, 1 like DDPM)": "eta（DDIM：0 為確定性，1 近似 DDPM）",
    "Checkpoint (used by every tab; two-sample score: 0.5 = like real faces)":
        "模型檢查點（所有分頁共用；雙樣本分數 0.5 = 與真實人臉無法區分）",
    "Truncation ψ (StyleGAN only: 1 = none, lower = nearer the average face)":
        "截斷 ψ（僅 StyleGAN：1 = 不截斷，越小越接近平均臉）",
    "The face x_0": "人臉 x_0", "Seed (the generated or training face, and the noise ε)":
        "種子（生成或訓練人臉，以及雜訊 ε）",
    "Image (for 'Uploaded image')": "圖片（選「上傳圖片」時使用）", "Timesteps t (comma-separated)": "時間步 t（以逗號分隔）",
    "T (diffusion steps of the schedules)": "T（排程的擴散步數）",
    "Sampler steps S (dots on the curves)": "取樣步數 S（曲線上的點）",
    "Spacing of the sampler's steps": "取樣步的間隔方式", "Seed": "種子", "eta (DDIM)": "eta（DDIM）",
    "Go back to any kept step (no recomputing)": "回到任一保留的步驟（不需重新計算）",
    "DDIM steps (comma-separated)": "DDIM 步數（以逗號分隔）", "eta values (comma-separated)": "eta 值（以逗號分隔）",
    "Add DDPM (1000 steps: slow)": "加入 DDPM（1000 步：較慢）", "Seed A": "種子 A", "Seed B": "種子 B",
    "Frames": "影格數", "DDIM steps": "DDIM 步數", "Images or a .zip (optional)": "圖片或 .zip（可不上傳）",
    "Seed (when nothing is uploaded)": "種子（未上傳時使用）", "Generated images": "生成圖片數", "Detector": "偵測器",
    "Compute the AFD rate": "計算 AFD 比率", "Images per method": "每種方法的圖片數",
    "Include DDPM (1000 steps: slow)": "包含 DDPM（1000 步：較慢）",
    # outputs
    "Generated faces (download: the gallery's buttons)": "生成的人臉（可用圖庫按鈕下載）",
    "q(x_t | x_0): schedules down, t across, the same ε": "q(x_t | x_0)：縱向為排程、橫向為 t，使用相同 ε",
    "The schedules": "排程曲線", "Animation (GIF)": "動畫（GIF）",
    "HW6 Question 1: images × timesteps": "HW6 第 1 題：圖片 × 時間步", "Spherical (slerp)": "球面內插（slerp）",
    "Linear, for comparison": "線性內插（對照）", "Slerp animation (GIF)": "slerp 動畫（GIF）",
    "Detected faces": "偵測到的人臉", "Zip of 1.jpg … N.jpg": "1.jpg … N.jpg 的壓縮檔",
    "The first images": "前幾張圖片", "A row per method": "每種方法一列", "Link (send it to the class)": "連結（傳給全班）",
    # texts
    "Seeds 0–7, DPM-Solver++ 10 steps: press Generate for your own.":
        "種子 0–7，DPM-Solver++ 10 步：按「生成」產生你自己的。",
    "Shared Space: some limits apply; each tab says what a run costs here.":
        "共用的 Space：有些用量限制；每個分頁都會說明在這台機器上執行所需的時間。",
    "Anime faces from random numbers with a diffusion model (NTU ML2023 HW6), on the CPU.":
        "用擴散模型從隨機數生成動漫人臉（台大 ML2023 HW6），在 CPU 上執行。",
    "One seed, the same x_T, sampled at several step counts and eta values. At eta 0 the face stays the same "
    "across step counts (DDIM is consistent); eta 1 over all steps is DDPM.":
        "同一個種子、同一個 x_T，以不同步數與 eta 取樣。eta 為 0 時，不同步數下的臉幾乎不變（DDIM 具一致性）；"
        "eta 為 1 且使用全部步數即為 DDPM。",
    "Up to 1000 faces as a zip of `1.jpg` … `N.jpg`, the HW6 submission format (image i from seed + i − 1).":
        "最多 1000 張人臉，打包成 `1.jpg` … `N.jpg` 的壓縮檔，即 HW6 繳交格式（第 i 張使用種子 seed + i − 1）。",
    "The same seeds through DDPM (1000 steps), DDIM and the StyleGAN baseline: the GAN makes an image in one pass, "
    "the diffusion model in many network evaluations. Wall time per image and the AFD rate are measured now, on "
    "this machine.":
        "相同的種子分別經過 DDPM（1000 步）、DDIM 與 StyleGAN 基準模型：GAN 一次前向即產生圖片，擴散模型則需多次網路"
        "運算。每張圖片的耗時與 AFD 比率皆在本機即時量測。",
    "HW6 Q2 on one screen: the first plot is what each setting costs, measured now; the second what it gives, "
    "measured once for this checkpoint by `evaluate.py report --sweep --two-sample` (face rates and the two-sample "
    "score, 0.5 = like real faces; FID where the Inception weights are present).":
        "HW6 第 2 題一次看完：第一張圖是各設定的耗時（即時量測）；第二張是其品質，由 `evaluate.py report --sweep "
        "--two-sample` 為此檢查點量測一次（人臉偵測率與雙樣本分數，0.5 = 與真實人臉無法區分；有 Inception 權重時另含 FID）。",
}

# the tabs' longer explanations, kept beside their code
from .denoise import EXPLANATION as _DENOISE  # noqa: E402
from .detect import EXPLANATION as _DETECT  # noqa: E402
from .forward import EXPLANATION as _FORWARD  # noqa: E402
from .interpolate import EXPLANATION as _INTERPOLATE  # noqa: E402

ZH_TW.update({
    _FORWARD: "前向過程以封閉形式加入高斯雜訊：x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε。每一列使用相同的 ε，所以只有排程不同。"
              "線性排程（DDPM）很早就把臉破壞掉：到 t ≈ 500 時幾乎什麼都不剩，許多步數都花在近乎純雜訊上。餘弦排程"
              "（Nichol & Dhariwal）讓 ᾱ 更久地維持在接近 1，並在 log-SNR 上更平均地分配步數；sigmoid 與其相似，但兩端"
              "更平。圓點是 S 步取樣器在所選間隔方式下走過的時間步：「trailing」從 t = T−1 開始，「uniform」（DDIM "
              "論文的做法）從 T − T/S 開始，永遠走不到雜訊最多的那一步。",
    _DENOISE: "上排：x_t，這一步時的樣本。下排：x̂0，網路根據 x_t 猜測的完成人臉。一開始 x_t 幾乎是純高斯雜訊，x̂0 "
              "則是一張模糊的平均臉。粗略的結構（臉的輪廓、髮色、眼睛的位置）在高雜訊的早期步驟就已決定；後面低雜訊"
              "的步驟只在去除剩餘雜訊的同時加入細節（眼睛高光、髮絲、邊緣）。執行結束後（或按下停止），可用滑桿回到"
              "任何保留的步驟。",
    _INTERPOLATE: "兩個種子；將它們的 x_T 混合，每個混合結果都以確定性的 DDIM 取樣。為什麼用 slerp：高斯分布的 x_T 位在"
                  "半徑約 √d 的球面附近；兩點之間的直線會穿過球的內部（中點只剩約 71% 的長度），所以線性混合看起來褪色，"
                  "而 slerp 則保持在球面上。使用 StyleGAN 檢查點時：上排是在 w 空間的線性內插（含截斷 ψ），下排是在 z "
                  "空間的 slerp，並固定種子 A 的雜訊圖。",
    _DETECT: "動漫人臉框與信心分數，以及 **AFD 比率**：至少有一張臉的圖片所占的比例，與 HW6 評分繳交作業的方式相同"
             "（YOLOv8 `yolov8x6_animeface.pt`，conf 0.8、iou 0.8、imgsz 64）。可上傳圖片或 zip，或不上傳而直接偵測"
             "生成的人臉。沒有作業的權重時，改用我們自己的小型 YOLOv8n 或 lbpcascade 偵測器，結果會註明用的是哪一個。"
             "**替我的作業評分**：上傳你的 HW6 zip（1000 張圖），也會得到 **FFD** 分數，也就是我們的 FID：在本專案"
             "訓練的人臉編碼器特徵中，與真實人臉的距離（越低越好），並與內附模型在相同張數下的 FFD 並列比較。",
    # choices (their values stay English: links and the API use them)
    "Generated face": "生成的人臉", "Uploaded image": "上傳圖片", "Training face": "訓練人臉",
    "Best available": "可用的最佳偵測器", "YOLOv8 yolov8x6_animeface.pt (HW6)": "YOLOv8 yolov8x6_animeface.pt（HW6）",
    "Our YOLOv8n (not the HW6 detector)": "我們的 YOLOv8n（不是 HW6 的偵測器）", "lbpcascade (OpenCV)": "lbpcascade（OpenCV）",
})


def _key(english: str) -> str:
    return "t" + hashlib.sha1(english.encode()).hexdigest()[:10]  # no dots: the frontend reads dots as paths


def T(english: str):
    """A translatable label: Gradio's frontend shows English or zh-TW by the browser's language."""
    if english not in ZH_TW:
        raise KeyError(f"no zh-TW translation for {english!r}: add it to demo/i18n.py")
    return I18N(_key(english))


def translated(choices) -> list[tuple]:
    """(label in the visitor's language, English value) per choice: what is sent stays the English value."""
    return [(T(c), c) for c in choices]


def both(english: str, chinese: str):
    """A label computed at start-up (it carries measured numbers), registered in both languages."""
    key = _key(english)
    I18N.translations["en"][key] = english
    for locale in ("zh-TW", "zh-Hant"):
        I18N.translations[locale][key] = chinese
    return I18N(key)


I18N = gr.I18n(en={_key(e): e for e in ZH_TW}, **{"zh-TW": {_key(e): z for e, z in ZH_TW.items()},
                                                     "zh-Hant": {_key(e): z for e, z in ZH_TW.items()}})
