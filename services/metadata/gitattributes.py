"""The default `.gitattributes` of a new repository: the Hub's usual LFS patterns."""
from __future__ import annotations

_LFS = " filter=lfs diff=lfs merge=lfs -text"

_COMMON = [
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
    "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
    "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*",
    "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*", "*.gguf",
]

_DATASET_MEDIA = [
    "*.lz4", "*.mds",
    "# Audio files - uncompressed", "*.pcm", "*.sam", "*.raw",
    "# Audio files - compressed", "*.aac", "*.flac", "*.mp3", "*.ogg", "*.wav",
    "# Image files - uncompressed", "*.bmp", "*.gif", "*.png", "*.tiff",
    "# Image files - compressed", "*.jpg", "*.jpeg", "*.webp",
    "# Video files - compressed", "*.mp4", "*.webm",
]


def default_gitattributes(repo_type: str) -> bytes:
    lines = [p + _LFS for p in _COMMON]
    if repo_type == "dataset":
        lines += [p if p.startswith("#") else p + _LFS for p in _DATASET_MEDIA]
    return ("\n".join(lines) + "\n").encode()
