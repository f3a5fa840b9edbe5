"""Audio in: microphone capture and audio files, always handed on as 16 kHz mono int16."""
