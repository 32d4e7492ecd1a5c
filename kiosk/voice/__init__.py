"""Voice prompts for villagers who read little: one prompt per step and per error.

    voice = VoicePrompter(translator, cache_dir, recordings_dir=..., player=find_player())
    voice.start()
    voice.say("voice.identify", "yue")    # cuts off whatever was being said
    voice.say_error("hardware.card_removed", "cmn")
    voice.muted = True; voice.volume = 0.6
    voice.stop()

Modules: ``languages`` (which voices, which text), ``synth`` (espeak-ng to a WAV),
``player`` (the audio output, killable), ``prompter`` (the worker thread that ties
them). No Kivy here; the screens call ``say`` and never wait for it.
"""

from kiosk.voice.languages import VOICE_LANGUAGES, VoiceLanguage
from kiosk.voice.player import AudioPlayer, find_player
from kiosk.voice.prompter import VoicePrompter, error_prompt_key, step_prompt_key
from kiosk.voice.synth import EspeakSynth, VoiceUnavailable

__all__ = ["VOICE_LANGUAGES", "AudioPlayer", "EspeakSynth", "VoiceLanguage", "VoicePrompter",
           "VoiceUnavailable", "error_prompt_key", "find_player", "step_prompt_key"]
