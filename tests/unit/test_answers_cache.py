"""Written answers kept in the process: until their time, and within a byte budget, the oldest going first."""

from __future__ import annotations

from datetime import datetime

from admit.cache import Answers

NINE = datetime(2025, 11, 20, 9, 0)
TEN = datetime(2025, 11, 20, 10, 0)


def test_an_answer_is_served_until_its_time_comes() -> None:
    answers: Answers[str] = Answers()
    answers.put("calendar", b"{}", until=TEN)
    assert answers.get("calendar", NINE) == b"{}"
    assert answers.get("calendar", TEN) is None  # a slot starts at ten: the answer no longer holds


def test_past_the_byte_budget_the_oldest_answers_go_first() -> None:
    answers: Answers[int] = Answers(max_bytes=10)
    for key in range(3):
        answers.put(key, b"abcd")  # 4 bytes each: the third goes past 10
    assert [answers.get(key, NINE) for key in range(3)] == [None, b"abcd", b"abcd"]
    answers.put(1, b"abcdefgh")  # replacing an answer counts only its new size
    assert [answers.get(key, NINE) for key in range(3)] == [None, b"abcdefgh", None]
