import jobs
from ats.actors import Actor
from research.inputs import RunCreate
from research.services.runs import run_create


def test_metrics_text(client, tenant_a) -> None:
    run_create(tenant=tenant_a, data=RunCreate(objective="x"), actor=Actor.system("test"))
    jobs.enqueue("testapp.hold", tenant=tenant_a, queue="reports")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    assert "# TYPE ats_jobs gauge" in text
    assert 'ats_jobs{status="queued"} 1' in text
    assert 'ats_queue_ready_jobs{queue="reports"} 1' in text
    assert 'ats_queue_live_workers{queue="reports"} 0' in text
    assert 'ats_research_runs{status="draft"} 1' in text
    assert "ats_workers_live 0" in text
    assert tenant_a.slug not in text


def test_metrics_token(client, settings, db) -> None:
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
