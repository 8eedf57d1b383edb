"""The blast radius counts what a publish would change at the target: changes the target
already holds by its own feed (loop suppression) are not sent and do not count; drift
corrections are sent and do."""

from dagster_project.quality.checks import ChangeCounts, blast_radius_part


def counts(**kw) -> ChangeCounts:
    base = dict(published=100, adds=0, changes=0, zeroed=0, removals=0, held=0, unchanged=0)
    return ChangeCounts(**{**base, **kw})


def test_changes_the_target_already_holds_do_not_count() -> None:
    # 60 changes, 30 of them already at the store (orders took the store's level down as the
    # hub's figure now goes): 30 would change there, within 50%
    part = blast_radius_part(counts(changes=60, changes_in_target=30), 0.5, 0.3, 20)
    assert part.passed, part.summary
    assert "30 of 100" in part.summary
    assert part.details["changes_already_in_target"] == 30


def test_changes_and_drift_corrections_over_the_limit_hold() -> None:
    part = blast_radius_part(
        counts(changes=60, changes_in_target=20, drift=15, drift_corrected=15), 0.5, 0.3, 20
    )
    assert not part.passed
    assert "55 of 100 published records would change (55%, limit 50%)" in part.summary
