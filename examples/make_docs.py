#!/usr/bin/env python3
"""Writes examples/docs/: field notes on 24 topics, about 300 KB in all.

Deterministic (fixed seed): running it again rewrites the same bytes, so the
expected results in examples/expected/ stay valid. Standard library only.
"""
import os
import random

TOPICS = {
    "astronomy": "telescope orbit comet nebula galaxy eclipse planet stellar crater meteor",
    "beekeeping": "hive queen honey pollen colony nectar swarm comb drone apiary",
    "bridges": "span girder cable pier truss arch load steel deck abutment",
    "cheese": "curd rennet brine rind aging cheddar whey culture cellar wheel",
    "coffee": "roast bean espresso crema grinder arabica brew aroma acidity barista",
    "compilers": "parser lexer token grammar optimizer register bytecode syntax pass inlining",
    "glaciers": "ice moraine crevasse meltwater calving firn snowpack terminus till fjord",
    "harbours": "quay tide dock crane vessel cargo berth pilot breakwater container",
    "lighthouses": "lamp lens beacon keeper tower fog signal rock coast shipwreck",
    "locomotives": "boiler piston firebox tender steam whistle rail gauge coupling axle",
    "mushrooms": "spore mycelium cap gill forest fungus chanterelle morel forager damp",
    "orchards": "apple pear blossom graft rootstock pruning harvest cider orchard frost",
    "origami": "fold crease paper crane valley mountain square model sheet pleat",
    "printing": "press ink type serif platen plate paper sheet compositor letterpress",
    "rivers": "current delta bank flood meander estuary silt ferry rapids source",
    "sailing": "sail mast keel tack jib hull wind rudder mooring regatta",
    "sourdough": "starter flour crust crumb proof levain dough oven hydration bake",
    "telegraphs": "morse wire operator relay signal key cable station message code",
    "textiles": "loom weft warp yarn dye spindle fiber wool cotton shuttle",
    "volcanoes": "lava magma crater ash eruption caldera vent basalt tremor plume",
    "watches": "gear spring escapement dial movement jewel balance crown bezel tick",
    "whales": "pod krill song baleen breach fluke migration blubber calf humpback",
    "windmills": "blade sail millstone grain tower wind gearing miller flour cap",
    "woodworking": "plane chisel joint grain mortise tenon oak saw dovetail lathe",
}

COMMON = ("the a of and to in that it with as for was on are by this be from at "
          "which or had were has have one all their there when we they early "
          "people work time long old new small great first good way day each "
          "often still many most some every near under over through").split()

FRAMES = [
    "{C} {t1} {c} {t2} {c} {c} {t3}.",
    "{C} {c} {t1} {t2} {c} {c} {t3} {c} {t4}.",
    "In {c} {t1}, {c} {t2} {c} {t3}.",
    "{C} {t1} {c} {c} {t2}; {c} {t3} {c} {t4} {c}.",
]


def sentence(rng, topic_words):
    frame = rng.choice(FRAMES)
    words = {f"t{i}": rng.choice(topic_words) for i in range(1, 5)}
    text = frame
    for key, value in words.items():
        text = text.replace("{" + key + "}", value, 1)
    while "{c}" in text:
        text = text.replace("{c}", rng.choice(COMMON), 1)
    first = rng.choice(COMMON)
    return text.replace("{C}", first.capitalize(), 1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "docs")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261121)
    for n, (topic, words) in enumerate(sorted(TOPICS.items()), start=1):
        topic_words = words.split()
        paragraphs = []
        for _ in range(rng.randint(40, 56)):
            paragraphs.append(" ".join(sentence(rng, topic_words)
                                       for _ in range(rng.randint(3, 6))))
        title = f"Field notes {n:02d}: {topic}"
        with open(os.path.join(out, f"{n:02d}-{topic}.txt"), "w") as f:
            f.write(title + "\n\n" + "\n\n".join(paragraphs) + "\n")


if __name__ == "__main__":
    main()
