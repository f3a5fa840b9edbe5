"""Recognition: the offline vosk model, its vocabulary and grammar, and streaming speech-to-text.

Import the submodules directly (`assistant.recognition.recognizer`, ...): vosk itself is only
imported when a model is loaded, so `assistant --help` stays instant.
"""
