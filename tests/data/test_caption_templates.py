"""digit_captions draws from CAPTION_TEMPLATES by default, seeded."""

from keras_dlparts.data import CAPTION_TEMPLATES
from keras_dlparts.data import DIGIT_NAMES
from keras_dlparts.data import digit_captions


def test_default_captions_come_from_the_templates():
    labels = list(range(10)) * 4
    captions = digit_captions(labels, seed=3)
    used = set()
    for label, caption in zip(labels, captions):
        name = DIGIT_NAMES[label]
        matches = [t for t in CAPTION_TEMPLATES if t.format(name) == caption]
        assert matches, f"{caption!r} is from no template"
        used.update(matches)
    assert len(used) > 1
    assert captions == digit_captions(labels, seed=3)
