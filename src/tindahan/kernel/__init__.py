"""The shared kernel: what every capability and every face speaks, at the ground floor.

Two things only: the *refusal* (``refusals``: why a request changed nothing, one exception
type with a category, a stable code, a sentence and the field at fault) and the *caller*
(``callers``: who is asking and what they may reach). Payments, commerce, lending, credit
and the faces all raise and catch the same ``RefusalError`` and check the same ``Caller``;
nothing here imports anything of Tindahan's.
"""
