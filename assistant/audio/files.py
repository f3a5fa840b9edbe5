"""`chat --audio`: each stdin line names a WAV file that is heard as the user's turn."""

from pathlib import Path

from assistant.errors import AudioInputError


class UnreadableAudio(AudioInputError):
    """A turn's file could not be heard; the conversation goes on."""


def wav_hearing(hearing):
    """A hear(line) function for chat.run_json: path in, words recognised by `hearing` (a live.hearing.Hearing) out."""
    from assistant.audio.wavio import read_wav

    def hear(line: str) -> str:
        path = line.strip()
        if not path:
            return ""  # an empty line is silence, as in the text contract
        if not Path(path).is_file():
            raise UnreadableAudio(f"找不到录音文件 (no such audio file): {path}")
        return hearing.hear(read_wav(path))

    return hear
