"""Older speakers in a room, for test and training audio: the voice made slower, lower or higher and shaky (sox),
room reverb, and pink, brown or babble noise mixed in at a chosen signal-to-noise ratio.

One recipe for both the bench's elder-like spoken sets (bench/elder.py) and the heard training sentences
(assistant/understanding/heard.py), so what the model learns from and what it is measured on are roughened the
same way. Everything is seeded: the same generator state gives the same samples byte for byte.
"""

import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
TEMPO = (0.75, 0.95)
"""sox `tempo -s` factors: slower, pitch kept."""
PITCH = (-300, 100)
"""Cents: most elders' voices are lower; a few higher."""
NOISES = ("pink", "brown", "babble")
BABBLE_VOICES = (4, 6)
_FRAME = 320
"""20 ms at 16 kHz: the unit speech/silence is told apart in."""


@dataclass(frozen=True)
class Speaker:
    """One older speaker in one room (the draw order of `draw` is part of the recipe: changing it changes every
    file built from a seed)."""

    tempo: float
    pitch: int
    tremolo_hz: float
    tremolo_depth: int
    reverberance: int
    room_scale: int
    noise: str

    @staticmethod
    def fields(rng: random.Random) -> dict:
        return {"tempo": round(rng.uniform(*TEMPO), 3), "pitch": rng.randint(*PITCH),
                "tremolo_hz": round(rng.uniform(4.0, 7.0), 2), "tremolo_depth": rng.randint(5, 15),
                "reverberance": rng.randint(20, 60), "room_scale": rng.randint(30, 80), "noise": rng.choice(NOISES)}

    @classmethod
    def draw(cls, rng: random.Random) -> "Speaker":
        return cls(**cls.fields(rng))

    def sox_voice(self) -> list[str]:
        return ["tempo", "-s", f"{self.tempo:.3f}", "pitch", str(self.pitch),
                "tremolo", f"{self.tremolo_hz:.2f}", str(self.tremolo_depth)]

    def sox_room(self) -> list[str]:
        return ["reverb", str(self.reverberance), "50", str(self.room_scale)]


def sox(inp: Path, out: Path, effects: list[str]) -> None:
    # -R: repeatable; -D: no dither (dither is noise, and these files must be the same every time).
    subprocess.run(["sox", "-R", "-D", str(inp), "-r", str(RATE), "-c", "1", "-b", "16", str(out), *effects],
                   check=True, capture_output=True)


def through_sox(samples: np.ndarray, effects: list[str], tmp: Path) -> np.ndarray:
    """int16 samples through a sox effects chain (files in `tmp`, sox has no numpy interface)."""
    from assistant.audio.wavio import read_wav, write_wav

    write_wav(tmp / "in.wav", samples)
    sox(tmp / "in.wav", tmp / "out.wav", effects)
    return read_wav(tmp / "out.wav")


def active(samples: np.ndarray, frame: int = _FRAME) -> np.ndarray:
    """Per 20 ms frame: within 35 dB of the loudest frame (speech, as opposed to silence)."""
    n = len(samples) // frame * frame
    blocks = samples[:n].astype(np.float64).reshape(-1, frame)
    energy = np.sqrt(np.mean(blocks ** 2, axis=1))
    return energy >= energy.max() * 10 ** (-35 / 20) if energy.size and energy.max() > 0 else energy > 0


def speech_bounds(samples: np.ndarray) -> tuple[float, float]:
    """Seconds where speech (frames within 35 dB of the loudest) starts and ends."""
    frames = np.flatnonzero(active(samples))
    if not frames.size:
        return 0.0, 0.0
    return frames[0] * 0.02, (frames[-1] + 1) * 0.02


def shaped_noise(kind: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (power 1/f) or brown (1/f²) noise."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    spectrum /= np.sqrt(f) if kind == "pink" else f
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, length)


def babble(length: int, rng: random.Random, folder: Path) -> np.ndarray:
    """Several real speakers at once (4–6 recordings of `folder`, each at the same level): a community centre."""
    from assistant.audio.wavio import read_wav

    names = sorted(p.name for p in folder.glob("*.wav"))
    if not names:
        raise FileNotFoundError(f"no real recordings for babble in {folder}")
    out = np.zeros(length)
    for name in rng.sample(names, rng.randint(*BABBLE_VOICES)):
        voice = read_wav(folder / name).astype(np.float64)
        voice /= np.sqrt(np.mean(voice ** 2)) + 1e-9
        voice = np.tile(voice, length // len(voice) + 2)
        start = rng.randrange(len(voice) - length)
        out += voice[start:start + length]
    return out


def noise(kind: str, length: int, rng: random.Random, babble_folder: Path) -> np.ndarray:
    """`length` samples of one kind of noise (NOISES), drawn from `rng`."""
    if kind == "babble":
        return babble(length, rng, babble_folder)
    return shaped_noise(kind, length, np.random.default_rng(rng.getrandbits(63)))


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Noise at snr_db below the power of the speech frames (silence does not lower the speech's level)."""
    s = speech.astype(np.float64)
    speaking = np.repeat(active(speech), _FRAME)
    power = np.mean(s[:len(speaking)][speaking] ** 2) if speaking.any() else np.mean(s ** 2)
    level = np.sqrt(power / ((np.mean(noise ** 2) + 1e-12) * 10 ** (snr_db / 10)))
    return np.clip(np.round(s + noise * level), -32768, 32767).astype(np.int16)


def older_in_room(samples: np.ndarray, speaker: Speaker, snr_db: float, rng: random.Random, babble_folder: Path,
                  tmp: Path, lead: float = 0.3, tail: float = 1.0) -> np.ndarray:
    """One reading made to sound like `speaker` in a room: voice effects, `lead` s of room before and `tail` s
    after the speech (the reverb's tail and the recogniser's end of turn need it), reverb, then noise at
    `snr_db` (its samples drawn from `rng`)."""
    voiced = through_sox(samples, speaker.sox_voice(), tmp)
    _, end = speech_bounds(voiced)
    dry = np.concatenate([np.zeros(int(lead * RATE), np.int16), voiced[:int(end * RATE)],
                          np.zeros(int(tail * RATE), np.int16)])
    wet = through_sox(dry, speaker.sox_room(), tmp)
    return mix(wet, noise(speaker.noise, len(wet), rng, babble_folder), snr_db)


def add_pink_noise(speech: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """int16 speech with pink (1/f) noise at `snr_db` below the speech's mean power (seeded by `rng`)."""
    samples = speech.astype(np.float64)
    spectrum = np.fft.rfft(rng.standard_normal(len(samples)))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))  # 1/f power: pink
    pink = np.fft.irfft(spectrum, len(samples))
    level = np.sqrt(np.mean(samples ** 2) / (np.mean(pink ** 2) * 10 ** (snr_db / 10) + 1e-12))
    return np.clip(samples + pink * level, -32768, 32767).astype(np.int16)
