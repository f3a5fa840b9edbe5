"""Text as it should sound: hotline numbers digit by digit, years digit by digit, Latin words in Chinese."""

import re

from assistant.numbers import digit_by_digit

# "12333" is a phone number: 一二三三三, never 一万两千三百三十三. Years too: 二零二六年.
_DIGIT_RUN = re.compile(r"\d{5,}|\d{4}(?=年)")
_WORDS = {"WiFi": "无线网", "wifi": "无线网", "APP": "软件", "App": "软件", "app": "软件", "QQ": "扣扣"}


def spoken_form(text: str) -> str:
    for word, said in _WORDS.items():
        text = text.replace(word, said)
    return _DIGIT_RUN.sub(lambda m: digit_by_digit(m.group()), text)
