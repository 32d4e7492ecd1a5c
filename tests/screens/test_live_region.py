"""The partial redraw's decisions that need no window (the drawing itself: test_gui.py's capture test)."""

from __future__ import annotations

from screens.widgets.live_region import around, on_x11, union


def test_the_box_drawn_is_both_frames_boxes():
    assert union((10, 20, 100, 50), (60, 0, 100, 30)) == (10, 0, 150, 70)
    assert union(None, (1, 2, 3, 4)) == (1, 2, 3, 4)
    assert union((1, 2, 3, 4), None) == (1, 2, 3, 4)
    assert union(None, None) is None


def test_only_x11_keeps_the_back_buffer():
    assert on_x11({"DISPLAY": ":200"})
    assert not on_x11({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})  # XWayland: left off
    assert not on_x11({"WAYLAND_DISPLAY": "wayland-0"})
    assert on_x11({"SDL_VIDEODRIVER": "x11", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"})
    assert not on_x11({"SDL_VIDEODRIVER": "wayland", "DISPLAY": ":0"})
    assert not on_x11({})


def test_only_what_the_picture_leaves_of_the_box_is_cleared():
    box = (0, 0, 100, 60)
    assert around(box, None) == [box]
    assert around(box, (10, 5, 80, 50)) == [(0, 0, 100, 5), (0, 55, 100, 5), (0, 5, 10, 50), (90, 5, 10, 50)]
    assert around(box, (0, 0, 100, 60)) == []                     # the picture covers it all
    assert around(box, (-5, 10, 200, 40)) == [(0, 0, 100, 10), (0, 50, 100, 10)]  # wider than the box
    assert around(box, (300, 300, 10, 10)) == [box]                # elsewhere: all of it
