from support.digits_judge import judge_accuracy

from keras_dlparts.data import load_digits


def test_judge_is_accurate_on_held_out_digits():
    _, (x_test, y_test) = load_digits()
    assert judge_accuracy(x_test, y_test) > 0.97


def test_judge_rejects_wrong_labels():
    _, (x_test, y_test) = load_digits()
    assert judge_accuracy(x_test, (y_test + 1) % 10) < 0.05
