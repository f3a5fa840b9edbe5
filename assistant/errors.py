"""The few errors callers are expected to catch; each prints as one plain line, never a traceback."""


class AssistantError(Exception):
    """Base of every error the assistant reports to a person instead of crashing."""


class FlowError(AssistantError):
    """A file in flows/ (or voices/, or a config file) is broken; points at file:line."""

    def __init__(self, file, line, message):
        self.file, self.line, self.message = str(file), line, message
        super().__init__(f"{self.file}:{line}: {message}" if line else f"{self.file}: {message}")


class ModelError(AssistantError):
    """The speech recognition model is missing, broken or failed to install."""


class VoiceError(AssistantError):
    """No usable voice for speech output."""


class AudioDeviceError(AssistantError):
    """A microphone or speaker is missing or failed."""


class AudioInputError(AssistantError):
    """An audio file could not be read: missing, empty, corrupt or in a format we cannot decode."""
