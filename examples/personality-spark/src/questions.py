"""The bundled question bank. Each question scores one trait; `reverse` questions count 6 - answer."""

OPTIONS = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]

BANK = {
    "big5": [
        ("big5-o1", "openness", False, "I have a vivid imagination."),
        ("big5-o2", "openness", True, "I am not interested in abstract ideas."),
        ("big5-c1", "conscientiousness", False, "I am always prepared."),
        ("big5-c2", "conscientiousness", True, "I leave my belongings around."),
        ("big5-e1", "extraversion", False, "I am the life of the party."),
        ("big5-e2", "extraversion", True, "I don't talk a lot."),
        ("big5-a1", "agreeableness", False, "I sympathize with others' feelings."),
        ("big5-a2", "agreeableness", True, "I am not interested in other people's problems."),
        ("big5-n1", "neuroticism", False, "I get stressed out easily."),
        ("big5-n2", "neuroticism", True, "I am relaxed most of the time."),
    ],
    "daily": [
        ("daily-1", "energy", False, "I woke up feeling rested today."),
        ("daily-2", "focus", False, "I know the one thing I must finish today."),
        ("daily-3", "social", False, "I am looking forward to talking to someone today."),
        ("daily-4", "calm", True, "Something is worrying me this morning."),
        ("daily-5", "energy", True, "I would rather stay in bed."),
    ],
    "quick": [
        ("quick-1", "adventure", False, "I would try a food I cannot pronounce."),
        ("quick-2", "planning", False, "I pack the night before a trip."),
        ("quick-3", "adventure", True, "I order the same thing every time."),
        ("quick-4", "planning", True, "I decide what to do on the day."),
    ],
    "mood": [
        ("mood-1", "happiness", False, "I smiled at something today."),
        ("mood-2", "stress", False, "My to-do list feels too long."),
        ("mood-3", "happiness", True, "Everything feels like a chore."),
        ("mood-4", "stress", True, "I feel in control of my day."),
        ("mood-5", "energy", False, "I could go for a run right now."),
    ],
}

QUESTIONS = {qid: (quiz_type, trait, reverse) for quiz_type, items in BANK.items()
             for qid, trait, reverse, _ in items}
