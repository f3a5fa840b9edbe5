"""Speech output: voice profiles, engines, the pre-rendered prompt cache, playback.

Kept import-light on purpose: the render worker imports this package inside the optional natural-voice
venv, which has neither soundfile nor sounddevice. Import the submodules you need.
"""
