"""System voice through pyttsx3: espeak-ng `cmn` on Linux, a Chinese SAPI5 voice on Windows, macOS's own.

pyttsx3 quirks this module keeps away from the user (see the pyttsx3 issue tracker, nateshmbhat/pyttsx3):
- save_to_file sometimes leaves an empty or missing file, mostly on the first call (#142, #170) -> the
  parent checks every file and retries with a fresh engine object;
- runAndWait can hang on a reused engine (#126, #131), and espeak can be initialised only once per
  process -> rendering runs in a child process (render_worker) that is killed and restarted on a hang;
- its espeak driver prints "Audio saved to ..." on stdout -> the child's stdout is claimed for answers;
- setProperty("voice", "cmn") is silently ignored by its espeak driver -> voices are chosen by their id;
- with espeak, runAndWait returns before the file exists (#219 "Espeak returns early"): pyttsx3 starts
  espeak in AUDIO_OUTPUT_RETRIEVAL mode, which synthesises on espeak's own thread, and writes the file
  only when that thread finishes; its stop() then Cancel()s queued work. Seen here with pyttsx3 2.99 /
  espeak-ng 1.51: long or slow sentences came back missing or as a bare 44-byte header, and a rate
  change was silently dropped -> settle espeak before each step and wait for "finished-utterance";
- pyttsx3 holds setProperty in its own queue until runAndWait, whose stop() may cancel it inside espeak -> the
  rate is set on espeak directly and read back (_set_rate).
"""

import logging
import sys

from assistant.speech.engines import WorkerEngine

log = logging.getLogger(__name__)

#: Words per minute that count as rate 1.0 per pyttsx3 driver: espeak-ng's own default is 175 (pyttsx3
#: sets 200 at start, which is hurried for Mandarin); SAPI5/NSSS voices speak normally at ~200 / 180.
NORMAL_WPM = {"espeak": 175, "sapi5": 200, "nsss": 180}
#: espeak-ng refuses to go slower than 80 words per minute.
MIN_WPM = 80
#: Slower than normal, words per minute fall as rate ** this, a little less than in proportion: stretched phones
#: blur, and the profile's pauses between sentences grow faster (profiles.PAUSE_GROWTH). At the elder profile's
#: 0.8 / 0.7 / 0.6: 145 / 129 / 113 words per minute (each step still 12-14 % longer). Word groups with a
#: comma between them, as the natural voice has, were tried: through pyttsx3 espeak-ng pauses only 0.15-0.2 s at a
#: comma and changes its intonation there, so they are not used.
SLOW_WPM_EXPONENT = 0.85

_CANTONESE = ("yue", "cantonese", "zh-hk", "zh-mo", "粤", "sinji", "tracy", "hiugaai")
_MAINLAND = ("cmn", "zh-cn", "zh-hans", "zh-sg", "mandarin", "huihui", "yaoyao", "kangkang", "tingting",
             "xiaoxiao", "普通话")


def mandarin_score(voice) -> int:
    """How well a pyttsx3 Voice fits Mandarin: 3 mainland Mandarin, 2 other Mandarin, 1 Chinese, 0 not."""
    languages = " ".join(str(lang) for lang in (getattr(voice, "languages", None) or []))
    text = f"{voice.id} {getattr(voice, 'name', '')} {languages}".lower().replace("_", "-")
    if any(mark in text for mark in _CANTONESE):
        return 0
    if any(mark in text for mark in _MAINLAND):
        score = 3
    elif any(mark in text for mark in ("zh-tw", "taiwan", "hanhan", "meijia")):
        score = 2
    elif "chinese" in text or "中文" in text or " zh" in f" {languages.lower()}":
        score = 1
    else:
        return 0
    # espeak's cmn-latn-pinyin reads Latin letters (APP, WiFi) as pinyin; plain cmn reads them as English.
    return score - 1 if "pinyin" in text and score > 1 else score


def pick_voice(voices, wanted: str = "auto"):
    """The voice to use: `wanted` by id or name, or for "auto" the best Mandarin voice; VoiceError if none."""
    from assistant.errors import VoiceError

    voices = list(voices)
    if wanted != "auto":
        for voice in voices:
            if wanted in (voice.id, getattr(voice, "name", None)):
                return voice
        lowered = wanted.lower()
        for voice in voices:
            if lowered in (str(voice.id).lower(), str(getattr(voice, "name", "")).lower()):
                return voice
        chinese = [v.id for v in voices if mandarin_score(v) > 0]
        raise VoiceError(
            f"系统里没有语音 {wanted!r}。可用的中文语音：{', '.join(chinese) or '没有'}；"
            "或在声音设置里写 voice = \"auto\"。"
            f" / No voice {wanted!r}; Chinese voices here: {', '.join(chinese) or 'none'}."
        )
    scored = [(mandarin_score(v), -i, v) for i, v in enumerate(voices)]
    best = max(scored, key=lambda item: item[:2], default=None)
    if best is None or best[0] == 0:
        raise VoiceError(no_voice_message())
    return best[2]


def no_voice_message() -> str:
    if sys.platform.startswith("win"):
        how = ("在 Windows 设置 → 时间和语言 → 语言 → 添加“中文(简体)”并勾选“语音”"
               " / add the Chinese (Simplified) speech pack in Windows Settings")
    elif sys.platform == "darwin":
        how = ("在 系统设置 → 辅助功能 → 朗读内容 → 系统声音 里下载“婷婷”"
               " / download the Tingting voice in macOS Accessibility settings")
    else:
        how = "请安装 espeak-ng：sudo apt-get install espeak-ng / install espeak-ng: sudo apt-get install espeak-ng"
    return f"没有找到普通话语音。{how}"


class Pyttsx3Backend:
    """Child-process side: one pyttsx3 engine, re-created on request ("fresh")."""

    def __init__(self, voice: str = "auto"):
        self.wanted = voice
        self._open()

    def _open(self):
        import pyttsx3

        self._engine = pyttsx3.init()
        self.driver = getattr(self._engine, "driver_name", None) or "espeak"
        chosen = pick_voice(self._engine.getProperty("voices"), self.wanted)
        self._engine.setProperty("voice", chosen.id)
        self.voice_id, self.voice_name = chosen.id, getattr(chosen, "name", chosen.id)
        self.normal_wpm = NORMAL_WPM.get(self.driver) or int(self._engine.getProperty("rate"))

    def info(self) -> dict:
        return {"identity": f"pyttsx3/{self.driver}/{self.voice_id}", "voice": self.voice_id,
                "voice_name": self.voice_name, "driver": self.driver}

    def reset(self):
        """Drop the engine so pyttsx3.init() builds a new one (it hands back a live cached instance)."""
        import gc

        try:
            self._engine.stop()
        except Exception as exc:  # noqa: BLE001 - the old engine is dropped either way
            log.debug("stopping the old pyttsx3 engine failed: %s", type(exc).__name__)
        self._engine = None
        gc.collect()
        self._open()

    def render(self, text: str, rate: float, out: str):
        import threading

        # Slower (慢一点) draws espeak-ng's phones out less than in proportion (see SLOW_WPM_EXPONENT); faster is
        # plainly more words per minute.
        wpm = self.normal_wpm * (rate if rate >= 1.0 else rate ** SLOW_WPM_EXPONENT)
        self._set_rate(max(MIN_WPM, int(round(wpm))))
        finished = threading.Event()
        def on_finished(completed=True, **_):
            if completed:
                finished.set()

        token = self._engine.connect("finished-utterance", on_finished)
        try:
            self._engine.save_to_file(text, out)
            self._engine.runAndWait()
            # The espeak driver is still synthesising on espeak's thread here (see the module docstring).
            if not finished.wait(15.0 + 0.2 * len(text)):
                self._engine.stop()  # give up on this one; the parent sees no file and retries fresh
        finally:
            self._engine.disconnect(token)

    def _set_rate(self, wpm: int):
        """Set the speaking rate so that it holds for the next sentence.

        Through pyttsx3, espeak's rate is not set but queued twice: pyttsx3's proxy is "busy" between loops, so
        setProperty waits in its queue until runAndWait, which then queues it in espeak's own command FIFO and, in
        the same breath, stops the loop with a Cancel() that drops whatever espeak has not run yet. Under load the
        rate change lost that race and a sentence came out at pyttsx3's 200 words per minute (CI, 2026-12-03: a
        sentence 28 % short). So for espeak the rate is set on espeak directly, waited for, and read back.
        """
        if self.driver != "espeak":
            self._engine.setProperty("rate", wpm)
            return
        import ctypes
        import time

        from pyttsx3.drivers import _espeak

        # pyttsx3 declares espeak_GetParameter with one argument; its second says "the value now in force".
        get_parameter = _espeak.dll.espeak_GetParameter
        get_parameter.argtypes, get_parameter.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        for _ in range(20):
            self._settle()
            _espeak.SetParameter(_espeak.RATE, wpm, 0)
            self._settle()
            if get_parameter(_espeak.RATE, 1) == wpm:
                return
            time.sleep(0.05)
        log.warning("espeak did not take the speaking rate %d; this sentence keeps the last one", wpm)

    def _settle(self):
        """espeak only: wait until espeak's thread has run every queued command.

        In async mode espeak queues even setProperty("rate"). pyttsx3's runAndWait calls stop(), which
        Cancel()s whatever is still queued when espeak looks busy: the rate change (the sentence then
        comes out at the old speed) or, via a stale stop flag, the next sentence itself (no file).
        """
        if self.driver != "espeak":
            return
        from pyttsx3.drivers import _espeak

        _espeak.Synchronize()
        driver = getattr(getattr(self._engine, "proxy", None), "_driver", None)
        if driver is not None and hasattr(driver, "_stopping"):
            driver._stopping = False


class Pyttsx3Engine(WorkerEngine):
    """The fallback voice every machine has; renders in a child running this same Python."""

    name = "pyttsx3"

    def __init__(self, voice: str = "auto", worker_factory=None):
        super().__init__(voice, sys.executable, worker_factory)
