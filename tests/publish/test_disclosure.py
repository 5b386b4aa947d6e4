"""Primary and complementary suppression on small, hand-made tables."""

from timebank.disclosure import PublicTable, suppress


def table(rows):
    return PublicTable(
        "t",
        "T",
        "",
        ("month", "kind", "minutes", "members"),
        rows,
        ("minutes",),
        group="month",
        group_label="kind",
        total="all",
    )


def test_a_small_cell_is_suppressed_and_so_is_its_smallest_partner():
    rows, primary, complementary = suppress(
        table(
            [
                ("2026-01", "all", 600, 20),
                ("2026-01", "a", 300, 10),
                ("2026-01", "b", 200, 7),
                ("2026-01", "c", 100, 2),
            ]
        ),
        k=5,
    )
    assert [r[-1] for r in rows] == [0, 0, 2, 1]
    assert rows[3][2:4] == (None, None) and rows[2][2:4] == (None, None)
    assert (primary, complementary) == (1, 1)


def test_two_small_cells_protect_each_other():
    rows, primary, complementary = suppress(
        table(
            [
                ("2026-01", "all", 600, 20),
                ("2026-01", "a", 500, 16),
                ("2026-01", "b", 60, 2),
                ("2026-01", "c", 40, 3),
            ]
        ),
        k=5,
    )
    assert [r[-1] for r in rows] == [0, 0, 1, 1] and complementary == 0


def test_a_small_group_is_suppressed_whole_and_zero_is_not_small():
    rows, _, _ = suppress(
        table([("2026-02", "all", 90, 3), ("2026-02", "a", 90, 3), ("2026-02", "b", 0, 0)]), k=5
    )
    assert [r[-1] for r in rows] == [1, 1, 0]


def test_groups_are_independent():
    rows, _, _ = suppress(
        table(
            [
                ("2026-01", "all", 600, 20),
                ("2026-01", "a", 600, 20),
                ("2026-02", "all", 600, 20),
                ("2026-02", "a", 590, 18),
                ("2026-02", "b", 10, 1),
            ]
        ),
        k=5,
    )
    assert [r[-1] for r in rows] == [0, 0, 0, 2, 1]
