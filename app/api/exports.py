"""``GET /exports/{id}``: the file of a finished export (xlsx or csv).

The id is the export's random 32-character key, handed only to the admin who started it (the 导出 dialog opens the
link); it stops working when the file is a day old. No session is needed, so the browser's plain download works.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response

from app.services import exports

router = APIRouter(include_in_schema=False)


@router.get("/exports/{job_id}")
async def download(job_id: str) -> Response:
    job = exports.finished(job_id)
    if job is None:
        return JSONResponse({"errcode": 404, "errmsg": "导出文件不存在或已过期"}, status_code=404)
    fmt = job.path.suffix.lstrip(".")
    return FileResponse(job.path, filename=job.filename, media_type=exports.MEDIA_TYPES.get(fmt))
