"""``manage.py demo [--scale S] [--seed N] [--reset] [--streets 2]``: generate and load the demo sub-district
(``--streets 2``: a second street beside it, as a district runs several streets on one database)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from demo.generator import STREETS, DemoMismatch, generate


class Command(BaseCommand):
    help = "生成并导入演示街道（1个街道、8个社区、约30个网格；规模1约5万户、13万人）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="规模倍数：1 约5万户，20 约100万户")
        parser.add_argument("--seed", type=int, default=2024, help="随机种子：同一种子生成同样的数据")
        parser.add_argument("--reset", action="store_true", help="删除已有的演示街道后重新生成")
        parser.add_argument("--streets", type=int, default=1, choices=range(1, len(STREETS) + 1),
                            help="街道个数：2 再生成一个相邻街道（多街道一个实例）")
        parser.add_argument("--database", default="default", help="数据库别名")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, scale: float, seed: int, reset: bool, streets: int, database: str, no_progress: bool,
               **options) -> None:
        if scale <= 0:
            raise CommandError("--scale 必须大于0 / --scale must be positive")
        for index in range(streets):
            name = STREETS[index].name
            try:
                result = generate(scale, seed, progress=not no_progress, using=database, reset=reset, street=index)
            except DemoMismatch as exc:
                raise CommandError(f"{name}: {exc}. 如需重新生成请加 --reset / use --reset to regenerate") from exc
            c = result["counts"]
            if result["status"] == "exists":
                self.stdout.write(f"演示街道「{name}」已存在（规模 {scale:g}，种子 {seed}），无需重新生成。"
                                  f" / The demo street already exists at scale {scale:g}; nothing to do.")
            else:
                self.stdout.write(self.style.SUCCESS(
                    f"已生成演示街道「{name}」/ demo street generated in {result['seconds']:.1f} s"))
            self.stdout.write(
                f"  社区 communities {c.get('communities')} · 网格 grids {c.get('grids')} · 小区/楼宇 compounds "
                f"{c.get('compounds')} · 楼栋 buildings {c.get('buildings')} · 房屋 houses {c.get('houses')}\n"
                f"  人员 people {c.get('people')}（现住 current {c.get('current_people')}，流动人口 floating "
                f"{c.get('floating')}，境外 foreign {c.get('foreign')}）· 企业 enterprises {c.get('enterprises')}")
