"""The live conversation: one turn heard from the microphone (hearing) and the loop that goes turn after turn."""
