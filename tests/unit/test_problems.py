from mediaport.errors import AssetNotFound, InvalidRequest, VerificationFailed


def test_a_problem_is_rfc9457_shaped() -> None:
    problem = AssetNotFound("no asset x").to_problem("/media/x")
    assert problem == {
        "type": "urn:mediaport:problem:asset-not-found",
        "title": "No such asset",
        "status": 404,
        "detail": "no asset x",
        "instance": "/media/x",
    }


def test_validation_problems_name_each_field() -> None:
    problem = InvalidRequest("bad", errors=[{"field": "size", "detail": "too big"}]).to_problem()
    assert problem["status"] == 400
    assert problem["errors"] == [{"field": "size", "detail": "too big"}]


def test_a_rejection_carries_its_machine_readable_reason() -> None:
    problem = VerificationFailed("TYPE_MISMATCH", "declared png, is html").to_problem()
    assert problem["status"] == 422
    assert problem["rejectReason"] == "TYPE_MISMATCH"


def test_answers_worth_repeating_say_when_and_others_do_not() -> None:
    from mediaport.api.resolver import problem_response
    from mediaport.errors import IdempotencyKeyInProgress, StorageUnavailable, TableUnavailable

    assert problem_response(IdempotencyKeyInProgress("busy")).headers["Retry-After"] == "1"
    assert problem_response(StorageUnavailable()).headers["Retry-After"] == "2"
    assert problem_response(TableUnavailable()).headers["Retry-After"] == "2"
    assert "Retry-After" not in problem_response(InvalidRequest("no")).headers
