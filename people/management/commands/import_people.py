"""``manage.py import_people FILE --user USERNAME [--commit] [--skip-errors] [--errors OUT.xlsx]``.

Imports a people-and-houses sheet as USERNAME (their ``people.import_person`` scope applies). Without
``--commit`` it only previews: counts and the first bad rows. Progress goes to the terminal (tqdm).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from people.importer import ImportError_, commit_import, plan_import, write_error_sheet

STAGES = {"validate": "校验", "match": "匹配", "write": "写入"}
tqdm.monitor_interval = 0  # no monitor thread: a progress bar needs none


class Command(BaseCommand):
    help = "导入人房表（预览；加 --commit 写入）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="以该用户的身份和管辖范围导入")
        parser.add_argument("--commit", action="store_true", help="写入数据库（否则只预览）")
        parser.add_argument("--skip-errors", action="store_true", help="跳过有错误的行，导入其余的行")
        parser.add_argument("--errors", help="把错误清单写入这个 .xlsx 文件")

    def handle(self, *args, **opts) -> None:
        path = Path(opts["file"])
        if not path.exists():
            raise CommandError(f"文件不存在: {path}")
        try:
            user = get_user_model().objects.get(username=opts["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"用户不存在: {opts['user']}") from None
        bars: dict[str, tqdm] = {}

        def progress(done: int, total: int, stage: str) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=STAGES.get(stage, stage), unit="行", file=self.stderr._out)
            bar.total = max(total, done)
            bar.update(done - bar.n)

        data = path.read_bytes()
        try:
            if opts["commit"]:
                plan = commit_import(data, user, file_name=path.name, skip_errors=opts["skip_errors"],
                                     progress=progress)
            else:
                plan = plan_import(data, user, file_name=path.name, progress=progress)
        except ImportError_ as exc:
            for bar in bars.values():
                bar.close()
            for e in exc.errors[:20]:
                self.stderr.write(f"  第{e.row}行 [{e.column}] {e.reason}")
            if opts["errors"] and exc.errors:
                write_error_sheet(data, exc.errors, opts["errors"])
            raise CommandError(str(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        finally:
            for bar in bars.values():
                bar.close()
        for e in (plan.errors + plan.warnings)[:20]:
            level = "错误" if e.level == "error" else "警告"
            self.stdout.write(f"  {level} 第{e.row}行 [{e.column}] {e.reason}")
        if opts["errors"] and (plan.errors or plan.warnings):
            write_error_sheet(data, plan.errors + plan.warnings, opts["errors"])
        c = plan.counts
        verb = "已导入" if opts["commit"] else "预览"
        self.stdout.write(
            f"{verb}: {len(plan.rows)} 行; 房屋 新增 {c.get('houses_create', 0)} 更新 {c.get('houses_update', 0)} "
            f"不变 {c.get('houses_unchanged', 0)}; 人员 新增 {c.get('people_create', 0)} "
            f"更新 {c.get('people_update', 0)} 不变 {c.get('people_unchanged', 0)}; "
            f"错误 {len(plan.errors)} 警告 {len(plan.warnings)}")
