#!/usr/bin/env python3
"""Writes the `.prj` fixtures of issue 9 finding 6 and their expected points.

Run from this folder: `python3 generate.py` (needs `pip install pyproj`;
written with pyproj 3.7.2 on PROJ 9.5.1, no transformation grids installed).

Each case is a `.prj` as a real tool writes it: the ESRI dialect as ArcGIS
writes it (`<case>.prj`), and one OGC WKT1 with a TOWGS84 (as GDAL 2 and QGIS
wrote them). For each case a few longitude/latitude points inside the
system's area of use are projected with PROJ, the projected coordinates
rounded to a millimetre (or a thousandth of a foot), and those rounded
coordinates converted back with PROJ: the values the Rust test checks
`sds`'s reprojection against (`points.csv`: case, x, y, lon, lat).

The expected longitude/latitude are on the `.prj`'s own datum when it is
WGS 84 or one of the datums `sds` takes as WGS 84 (NAD83, CGCS2000: PROJ's
own NAD83 -> WGS 84 default is the null transformation EPSG:1188, and both
are within about a metre of WGS 84), and on WGS 84 through the TOWGS84 when
the `.prj` carries one. For the ESRI `.prj` files on other datums (which
never carry a TOWGS84) the expected values are on WGS 84 through the
transformation PROJ itself picks from the EPSG database (named at each
case; no grid is installed, so it is a Helmert transformation).
"""

import csv
import pathlib

from pyproj import CRS, Transformer

HERE = pathlib.Path(__file__).resolve().parent

GCS_NAD83 = ('GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",'
             'SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
             'UNIT["Degree",0.0174532925199433]]')
GCS_WGS84 = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",'
             'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
             'UNIT["Degree",0.0174532925199433]]')

# name -> (.prj text, points as (lon, lat), whether the expected values are
# shifted to WGS 84, through the .prj's TOWGS84 or PROJ's choice)
CASES = {
    # EPSG:2285 as ArcGIS writes it: ESRI "Lambert_Conformal_Conic" with two
    # standard parallels, US survey feet.
    "wa_north_ftus_lcc_2sp": (
        'PROJCS["NAD_1983_StatePlane_Washington_North_FIPS_4601_Feet",' + GCS_NAD83 + ','
        'PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",1640416.666666667],'
        'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-120.8333333333333],'
        'PARAMETER["Standard_Parallel_1",47.5],PARAMETER["Standard_Parallel_2",48.73333333333333],'
        'PARAMETER["Latitude_Of_Origin",47.0],UNIT["Foot_US",0.3048006096012192]]',
        [(-122.3321, 47.6062), (-117.4260, 47.6588), (-122.4787, 48.7519), (-120.8333, 47.0)],
        False,
    ),
    # EPSG:3448: ESRI "Lambert_Conformal_Conic" with one standard parallel
    # and a scale factor (LCC 1SP).
    "jamaica_lcc_1sp": (
        'PROJCS["JAD_2001_Jamaica_Grid",GEOGCS["GCS_JAD_2001",DATUM["D_Jamaica_2001",'
        'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],'
        'PARAMETER["False_Easting",750000.0],PARAMETER["False_Northing",650000.0],'
        'PARAMETER["Central_Meridian",-77.0],PARAMETER["Standard_Parallel_1",18.0],'
        'PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",18.0],UNIT["Meter",1.0]]',
        [(-76.7936, 17.9970), (-77.9188, 18.4762), (-76.35, 18.15)],
        False,
    ),
    # EPSG:26910.
    "nad83_utm_10n": (
        'PROJCS["NAD_1983_UTM_Zone_10N",' + GCS_NAD83 + ',PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
        'PARAMETER["Central_Meridian",-123.0],PARAMETER["Scale_Factor",0.9996],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
        [(-122.4194, 37.7749), (-122.6765, 45.5231), (-125.9, 49.2)],
        False,
    ),
    # EPSG:32633.
    "wgs84_utm_33n": (
        'PROJCS["WGS_1984_UTM_Zone_33N",' + GCS_WGS84 + ',PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
        'PARAMETER["Central_Meridian",15.0],PARAMETER["Scale_Factor",0.9996],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
        [(16.3738, 48.2082), (14.4378, 50.0755), (12.4964, 41.9028)],
        False,
    ),
    # EPSG:2223 as ArcGIS writes it: Transverse_Mercator, international feet.
    "arizona_central_ft_intl_tm": (
        'PROJCS["NAD_1983_StatePlane_Arizona_Central_FIPS_0202_Feet_Intl",' + GCS_NAD83 + ','
        'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",700000.0],'
        'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-111.9166666666667],'
        'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",31.0],UNIT["Foot",0.3048]]',
        [(-112.0740, 33.4484), (-111.6513, 35.1983), (-110.9747, 32.2226)],
        False,
    ),
    # ESRI:102003 USA Contiguous Albers Equal Area Conic.
    "usa_contiguous_albers": (
        'PROJCS["USA_Contiguous_Albers_Equal_Area_Conic",' + GCS_NAD83 + ',PROJECTION["Albers"],'
        'PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],'
        'PARAMETER["Central_Meridian",-96.0],PARAMETER["Standard_Parallel_1",29.5],'
        'PARAMETER["Standard_Parallel_2",45.5],PARAMETER["Latitude_Of_Origin",37.5],UNIT["Meter",1.0]]',
        [(-122.3321, 47.6062), (-74.0060, 40.7128), (-80.1918, 25.7617), (-96.0, 37.5)],
        False,
    ),
    # EPSG:3857 as ArcGIS writes it (WKID 3857, formerly 102100).
    "wgs84_web_mercator_auxiliary_sphere": (
        'PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",' + GCS_WGS84 + ','
        'PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],'
        'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],'
        'PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]',
        [(-122.3321, 47.6062), (151.2093, -33.8688), (2.3522, 48.8566), (-70.0, 80.0)],
        False,
    ),
    # EPSG:4547: ESRI "Gauss_Kruger".
    "cgcs2000_gauss_kruger_cm_114e": (
        'PROJCS["CGCS2000_3_Degree_GK_CM_114E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
        'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],'
        'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
        'PARAMETER["Central_Meridian",114.0],PARAMETER["Scale_Factor",1.0],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
        [(114.0579, 22.5431), (114.3055, 30.5928), (112.9388, 28.2282)],
        False,
    ),
    # EPSG:3031: ESRI "Stereographic_South_Pole" (polar stereographic variant B).
    "antarctic_polar_stereographic": (
        'PROJCS["WGS_1984_Antarctic_Polar_Stereographic",' + GCS_WGS84 + ','
        'PROJECTION["Stereographic_South_Pole"],PARAMETER["False_Easting",0.0],'
        'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],'
        'PARAMETER["Standard_Parallel_1",-71.0],UNIT["Meter",1.0]]',
        [(166.6863, -77.8463), (-68.1303, -67.5686), (0.0, -89.5), (77.9667, -69.3778)],
        False,
    ),
    # EPSG:3413: ESRI "Stereographic_North_Pole", central meridian -45.
    "nsidc_north_polar_stereographic": (
        'PROJCS["WGS_1984_NSIDC_Sea_Ice_Polar_Stereographic_North",' + GCS_WGS84 + ','
        'PROJECTION["Stereographic_North_Pole"],PARAMETER["False_Easting",0.0],'
        'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",-45.0],'
        'PARAMETER["Standard_Parallel_1",70.0],UNIT["Meter",1.0]]',
        [(-51.7216, 64.1835), (15.6356, 78.2232), (-156.7886, 71.2906)],
        False,
    ),
    # ESRI:102021: ESRI's generic "Stereographic", polar aspect.
    "south_pole_stereographic": (
        'PROJCS["South_Pole_Stereographic",' + GCS_WGS84 + ',PROJECTION["Stereographic"],'
        'PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],'
        'PARAMETER["Central_Meridian",0.0],PARAMETER["Scale_Factor",1.0],'
        'PARAMETER["Latitude_Of_Origin",-90.0],UNIT["Meter",1.0]]',
        [(166.6863, -77.8463), (-68.1303, -67.5686), (0.0, -89.5)],
        False,
    ),
    # EPSG:27700 in OGC WKT1 with the TOWGS84 of EPSG:1314 (as GDAL 2 wrote
    # it): a datum shift of about 100 m.
    "osgb36_british_national_grid_towgs84": (
        'PROJCS["OSGB 1936 / British National Grid",GEOGCS["OSGB 1936",DATUM["OSGB_1936",'
        'SPHEROID["Airy 1830",6377563.396,299.3249646,AUTHORITY["EPSG","7001"]],'
        'TOWGS84[446.448,-125.157,542.06,0.15,0.247,0.842,-20.489],AUTHORITY["EPSG","6277"]],'
        'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
        'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4277"]],'
        'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",49],'
        'PARAMETER["central_meridian",-2],PARAMETER["scale_factor",0.9996012717],'
        'PARAMETER["false_easting",400000],PARAMETER["false_northing",-100000],'
        'UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],'
        'AUTHORITY["EPSG","27700"]]',
        [(-0.1276, 51.5072), (-3.1883, 55.9533), (-5.7150, 50.0657)],
        True,
    ),
    # ArcGIS's EPSG:27700: an ESRI .prj on OSGB 1936 without a TOWGS84; the
    # expected values use the transformation PROJ picks (EPSG:1314).
    "osgb36_british_national_grid_esri": (
        'PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",'
        'SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],'
        'PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],'
        'PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]',
        [(-0.1276, 51.5072), (-3.1883, 55.9533), (-5.7150, 50.0657), (-1.2577, 60.1546)],
        True,
    ),
    # EPSG:29903 TM75 / Irish Grid, ESRI spelling (PROJ picks EPSG:1954).
    "tm75_irish_grid_esri": (
        'PROJCS["TM75_Irish_Grid",GEOGCS["GCS_TM75",DATUM["D_TM75",'
        'SPHEROID["Airy_Modified",6377340.189,299.3249646]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",200000.0],PARAMETER["False_Northing",250000.0],'
        'PARAMETER["Central_Meridian",-8.0],PARAMETER["Scale_Factor",1.000035],'
        'PARAMETER["Latitude_Of_Origin",53.5],UNIT["Meter",1.0]]',
        [(-6.2603, 53.3498), (-8.4756, 51.8985), (-5.9301, 54.5973)],
        True,
    ),
    # EPSG:28992 RD New, ESRI "Double_Stereographic" on Amersfoort (PROJ
    # picks EPSG:4833).
    "amersfoort_rd_new_double_stereographic_esri": (
        'PROJCS["RD_New",GEOGCS["GCS_Amersfoort",DATUM["D_Amersfoort",'
        'SPHEROID["Bessel_1841",6377397.155,299.1528128]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Double_Stereographic"],'
        'PARAMETER["False_Easting",155000.0],PARAMETER["False_Northing",463000.0],'
        'PARAMETER["Central_Meridian",5.38763888888889],PARAMETER["Scale_Factor",0.9999079],'
        'PARAMETER["Latitude_Of_Origin",52.1561605555556],UNIT["Meter",1.0]]',
        [(4.9041, 52.3676), (5.3872, 52.1552), (6.5665, 53.2194), (5.6970, 50.8514)],
        True,
    ),
}


def main():
    rows = []
    for name, (prj, points, shifted) in CASES.items():
        (HERE / f"{name}.prj").write_text(prj)
        crs = CRS.from_wkt(prj)
        target = CRS.from_epsg(4326) if shifted else crs.geodetic_crs
        forward = Transformer.from_crs(target, crs, always_xy=True)
        inverse = Transformer.from_crs(crs, target, always_xy=True)
        for lon, lat in points:
            x, y = forward.transform(lon, lat, errcheck=True)
            x, y = round(x, 3), round(y, 3)
            expected_lon, expected_lat = inverse.transform(x, y, errcheck=True)
            assert abs(expected_lon - lon) < 1e-3 and abs(expected_lat - lat) < 1e-3, (name, lon, lat)
            rows.append((name, f"{x:.3f}", f"{y:.3f}", f"{expected_lon:.10f}", f"{expected_lat:.10f}"))
    with open(HERE / "points.csv", "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("case", "x", "y", "lon", "lat"))
        writer.writerows(rows)


if __name__ == "__main__":
    main()
