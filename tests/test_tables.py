"""cae_lib.tables: the one Markdown table writer."""

import pytest

from cae_lib.tables import markdown_table


def test_markdown_table():
    rows = [
        {"model": "given", "mse": 0.0031234, "psnr_mean_db": 25.5, "epochs": 20},
        {"model": "wide|deep", "mse": 0.0021, "epochs": 30, "psnr_mean_db": None},
    ]
    text = markdown_table(rows, floatfmt={"mse": ".5f", "psnr_mean_db": ".2f"}, headers={"psnr_mean_db": "PSNR mean (dB)"})
    assert text.splitlines() == [
        "| model | mse | PSNR mean (dB) | epochs |",
        "|:--|--:|--:|--:|",
        "| given | 0.00312 | 25.50 | 20 |",
        r"| wide\|deep | 0.00210 |  | 30 |",
    ]
    assert markdown_table(rows, columns=["epochs"]).splitlines()[2] == "| 20 |"


@pytest.mark.parametrize("rows, columns", [([], None), ([1, 2], None), ([{"a": 1}], [])])
def test_markdown_table_bad_input(rows, columns):
    with pytest.raises(ValueError):
        markdown_table(rows, columns=columns)


# --------------------------------------------------------------------------- figure
