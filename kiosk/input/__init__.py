"""Chinese text input engines for villagers who cannot type: handwriting and pinyin.

Kivy-free: the widgets in ``screens/widgets/`` draw and ask; these modules turn strokes
or keys into ranked candidates.
"""
