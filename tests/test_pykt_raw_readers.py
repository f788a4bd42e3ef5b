"""Each raw reader, on a few rows written in its release's layout: the exact ``data.txt`` it writes.

Every file holds rows each filter drops, answers out of time order, ties broken by the row in the
file, and learners in the order pyKT writes them. Times are expected in UTC milliseconds, computed
here with the standard library.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ktlab.data.pykt.raw import prepare
from ktlab.data.pykt.raw.ednet import read_sample
from ktlab.data.pykt.raw.six_lines import lines


def ms(text: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> int:
    """``text`` (UTC) in milliseconds since 1970."""
    return round(datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp() * 1000)


def write_table(path: Path, header: str | list[str], rows: list[dict[str, object]], sep: str = ",") -> Path:
    """A file with the release's full header; the columns a row does not name are left empty."""
    if isinstance(header, str):
        header = header.split(sep)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=sep, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(name, "") for name in header])
    return path


def prepared(tmp_path: Path, dataset: str, *paths: Path) -> str:
    written = prepare(dataset, list(paths), tmp_path / "out")
    return written.path.read_text()


def records(*learners: tuple[object, ...]) -> str:
    """The expected ``data.txt``: per learner uid, questions, skills, answers, timestamps, use times."""
    out = []
    for uid, questions, skills, answers, times, usetimes in learners:
        out += [f"{uid},{len(answers.split(','))}", questions, skills, answers, times, usetimes]
    return "\n".join(out) + "\n"


ASSIST2009_HEADER = (
    ",order_id,assignment_id,user_id,assistment_id,problem_id,original,correct,attempt_count,"
    "ms_first_response,tutor_mode,answer_type,sequence_id,student_class_id,position,type,base_sequence_id,"
    "skill_id,skill_name,teacher_id,school_id,hint_count,hint_total,overlap_time,template_id,answer_id,"
    "answer_text,first_action,bottom_hint,opportunity,opportunity_original"
)


def test_assist2009(tmp_path: Path) -> None:
    rows = [
        dict(user_id=70, order_id=300, problem_id=11, skill_id="1.0", correct=1),
        dict(user_id=64, order_id=200, problem_id=12, skill_id="10.0", correct=0),
        dict(user_id=70, order_id=100, problem_id=13, skill_id="1.0", correct=0),
        dict(user_id=70, order_id=100, problem_id=13, skill_id="5.0", correct=0),  # same answer, 2nd skill
        dict(user_id=64, order_id=150, problem_id=14, skill_id="", correct=1),  # no skill: dropped
        dict(user_id=64, order_id=250, problem_id=15, skill_id="10.0", correct=1),
        dict(user_id=70, order_id=400, problem_id=16, skill_id="1.0", correct=2),  # not 0/1: dropped
        dict(user_id=99, order_id=500, problem_id=17, skill_id="1.0", correct=1),
    ]
    path = write_table(tmp_path / "skill_builder_data_corrected_collapsed.csv", ASSIST2009_HEADER, rows)
    assert prepared(tmp_path, "assist2009", path) == records(
        (70, "13,13,11", "1.0,5.0,1.0", "0,0,1", "NA", "NA"),
        (64, "12,15", "10.0,10.0", "0,1", "NA", "NA"),
        (99, "17", "1.0", "1", "NA", "NA"),
    )


ASSIST2012_HEADER = (
    "problem_log_id,skill,problem_id,user_id,assignment_id,assistment_id,start_time,end_time,problem_type,"
    "original,correct,bottom_hint,hint_count,actions,attempt_count,ms_first_response,tutor_mode,"
    "answer_type,position,type,base_sequence_id,skill_id,teacher_id,school_id,student_class_id"
)


def test_assist2012(tmp_path: Path) -> None:
    rows = [
        dict(user_id=5, problem_id=100, skill_id=7, start_time="2012-09-26 17:57:03.5", correct=1,
             ms_first_response=1200),
        dict(user_id=5, problem_id=101, skill_id=8, start_time="2012-09-26 17:57:03", correct=0.5,
             ms_first_response=800),  # int(0.5) = 0: kept as wrong
        dict(user_id=6, problem_id=102, skill_id=7, start_time="2012-09-27 08:00:00.0", correct=2,
             ms_first_response=10),  # not 0/1: dropped
        dict(user_id=6, problem_id=103, skill_id=9, start_time="2012-09-27 08:00:00.0", correct=1,
             ms_first_response=""),  # no response time: dropped
        dict(user_id=6, problem_id=104, skill_id=9, start_time="2012-09-27 09:00:00.0", correct=1,
             ms_first_response=3000),
        dict(user_id=5, problem_id=105, skill_id=7, start_time="2012-09-26 17:57:03.0", correct=1,
             ms_first_response=50),  # the same time as row 1: after it
    ]  # fmt: skip
    path = write_table(tmp_path / "2012-2013-data-with-predictions-4-final.csv", ASSIST2012_HEADER, rows)
    t = ms("2012-09-26 17:57:03")
    assert prepared(tmp_path, "assist2012", path) == records(
        (5, "101,105,100", "8,7,7", "0,1,1", f"{t},{t},{t + 500}", "800,50,1200"),
        (6, "104", "9", "1", str(ms("2012-09-27 09:00:00")), "3000"),
    )


def test_assist2015(tmp_path: Path) -> None:
    rows = [
        dict(user_id=50, log_id=9, sequence_id=5542, correct=1),
        dict(user_id=50, log_id=3, sequence_id=5542, correct=0.25),  # partial credit: dropped
        dict(user_id=40, log_id=5, sequence_id=5965, correct="1.0"),
        dict(user_id=50, log_id=4, sequence_id=5965, correct=0),
        dict(user_id=40, log_id="", sequence_id=5965, correct=1),  # no log id: dropped
    ]
    header = ["user_id", "log_id", "sequence_id", "correct"]
    path = write_table(tmp_path / "2015_100_skill_builders_main_problems.csv", header, rows)
    assert prepared(tmp_path, "assist2015", path) == records(
        (50, "NA", "5965,5542", "0,1", "NA", "NA"),
        (40, "NA", "5965", "1", "NA", "NA"),
    )


ASSIST2017_HEADER = (
    "studentId,MiddleSchoolId,InferredGender,SY ASSISTments Usage,AveKnow,AveCarelessness,AveCorrect,"
    "NumActions,AveResBored,AveResEngcon,AveResConf,AveResFrust,AveResOfftask,AveResGaming,action_num,"
    "skill,problemId,assignmentId,assistmentId,startTime,endTime,timeTaken,correct,original,hint,"
    "hintCount,hintTotal,scaffold,bottomHint,attemptCount,problemType,frIsHelpRequest,frPast5HelpRequest"
)


def test_assist2017(tmp_path: Path) -> None:
    rows = [
        dict(studentId=8, skill="properties-of-geometric-figures", problemId=1001, startTime=1096730000,
             timeTaken=2.5, correct=1),
        dict(studentId=8, skill="noskill", problemId=1002, startTime=1096720000, timeTaken=0.0125,
             correct=0),  # 12.5 ms: rounded half to even, 12
        dict(studentId=9, skill="sum-of-interior-angles", problemId=1003, startTime=1096740000,
             timeTaken=3, correct=1),
        dict(studentId=8, skill="", problemId=1004, startTime=1096700000, timeTaken=4, correct=1),  # dropped
        dict(studentId=9, skill="sum-of-interior-angles", problemId=1005, startTime=1096740000,
             timeTaken=2.0005, correct=0),  # same time as row 2: after it; 2000.5000000000002 ms -> 2001
    ]  # fmt: skip
    path = write_table(tmp_path / "anonymized_full_release_competition_dataset.csv", ASSIST2017_HEADER, rows)
    assert prepared(tmp_path, "assist2017", path) == records(
        (8, "1002,1001", "noskill,properties-of-geometric-figures", "0,1", "1096720000000,1096730000000",
         "12,2500"),
        (9, "1003,1005", "sum-of-interior-angles,sum-of-interior-angles", "1,0",
         "1096740000000,1096740000000", "3000,2001"),
    )  # fmt: skip


KDD_HEADER = (
    "Row\tAnon Student Id\tProblem Hierarchy\tProblem Name\tProblem View\tStep Name\tStep Start Time\t"
    "First Transaction Time\tCorrect Transaction Time\tStep End Time\tStep Duration (sec)\t"
    "Correct Step Duration (sec)\tError Step Duration (sec)\tCorrect First Attempt\tIncorrects\tHints\t"
    "Corrects"
)


@pytest.mark.parametrize(
    ("dataset", "skill_column", "other_columns"),
    [
        ("algebra2005", "KC(Default)", ["Opportunity(Default)"]),
        (
            "bridge2algebra2006",
            "KC(SubSkills)",
            ["Opportunity(SubSkills)", "KC(KTracedSkills)", "Opportunity(KTracedSkills)"],
        ),
    ],
)
def test_kddcup(tmp_path: Path, dataset: str, skill_column: str, other_columns: list[str]) -> None:
    s = skill_column
    rows = [
        {"Anon Student Id": "0BrbPbwCMz", "Problem Name": "LDEMO_WKST", "Step Name": "3(x+2) = 15",
         "First Transaction Time": "2005-09-09 12:24:35.0", "Correct First Attempt": 0,
         s: "Eliminate Parens~~Combine_like, terms", "KC(KTracedSkills)": "other"},
        {"Anon Student Id": "0BrbPbwCMz", "Problem Name": "LDEMO_WKST", "Step Name": "x = 5",
         "First Transaction Time": "2005-09-09 12:24:30.0", "Correct First Attempt": 1, s: "Isolate x"},
        {"Anon Student Id": "1Abc", "Problem Name": "P2", "Step Name": "y,z",
         "First Transaction Time": "2005-09-10 08:00:00.0", "Correct First Attempt": 1, s: ""},  # dropped
        {"Anon Student Id": "1Abc", "Problem Name": "P2", "Step Name": "y",
         "First Transaction Time": "2005-09-10 08:00:01.0", "Correct First Attempt": 1, s: "KC_one"},
        {"Anon Student Id": "0BrbPbwCMz", "Problem Name": "P3", "Step Name": "s",
         "First Transaction Time": "2005-09-09 12:24:30.0", "Correct First Attempt": 2, s: "Isolate x"},
    ]  # fmt: skip
    path = write_table(
        tmp_path / f"{dataset}_train.txt", [*KDD_HEADER.split("\t"), s, *other_columns], rows, sep="\t"
    )
    assert prepared(tmp_path, dataset, path) == records(
        ("0BrbPbwCMz", "LDEMO####WKST----x = 5,LDEMO####WKST----3(x+2) = 15",
         "Isolate x,Eliminate Parens_Combine####like@@@@ terms", "1,0",
         f"{ms('2005-09-09 12:24:30')},{ms('2005-09-09 12:24:35')}", "NA"),
        ("1Abc", "P2----y", "KC####one", "1", str(ms("2005-09-10 08:00:01")), "NA"),
    )  # fmt: skip


STATICS_HEADER = (
    "Row,Anon Student Id,Problem Hierarchy,Problem Name,Problem View,Step Name,Step Start Time,"
    "First Transaction Time,Correct Transaction Time,Step End Time,Step Duration (sec),"
    "Correct Step Duration (sec),Error Step Duration (sec),First Attempt,Incorrects,Hints,Corrects,"
    "KC (F2011),Opportunity (F2011),KC (Single-KC),Opportunity (Single-KC),KC (Unique-step),"
    "Opportunity (Unique-step)"
)


def test_statics2011(tmp_path: Path) -> None:
    def row(student: str, problem: str, step: str, time: str, attempt: str) -> dict[str, object]:
        return {"Anon Student Id": student, "Problem Name": problem, "Step Name": step,
                "First Transaction Time": time, "First Attempt": attempt}  # fmt: skip

    rows = [
        row("Stu_b", "_sp_1", "q1_a", "2011/09/21 17:35", "correct"),
        row("Stu_a", "_sp_1", "q1_a", "2011/09/21 17:40", "hint"),  # a hint: dropped
        row("Stu_b", "_sp_1", "q1_b, part", "2011/09/21 17:35", "incorrect"),  # tie: after row 0
        row("Stu_a", "_sp_2", "q2", "2011/09/21 17:30", "incorrect"),
        row("Stu_b", "_sp_2", "q2", "2011/09/21 17:20", "correct"),
        row("Stu_a", "", "q3", "2011/09/21 17:50", "correct"),  # no problem name: dropped
    ]
    path = write_table(tmp_path / "AllData_student_step_2011F.csv", STATICS_HEADER, rows)
    t = [ms(f"2011/09/21 {hm}", "%Y/%m/%d %H:%M") for hm in ("17:20", "17:30", "17:35")]
    assert prepared(tmp_path, "statics2011", path) == records(  # learners sorted by id, as pyKT's groupby
        ("Stu_a", "NA", "####sp####2----q2", "0", str(t[1]), "NA"),
        ("Stu_b", "NA", "####sp####2----q2,####sp####1----q1####a,####sp####1----q1####b@@@@ part",
         "1,1,0", f"{t[0]},{t[2]},{t[2]}", "NA"),
    )  # fmt: skip


def test_nips_task34(tmp_path: Path) -> None:
    meta = tmp_path / "metadata"
    write_table(meta / "subject_metadata.csv", ["SubjectId", "Name", "ParentId", "Level"], [
        dict(SubjectId=3, Name="Maths", ParentId="", Level=0),
        dict(SubjectId=49, Name="Number", ParentId=3, Level=1),
        dict(SubjectId=71, Name="Angles", ParentId=49, Level=3),
        dict(SubjectId=98, Name="Fractions", ParentId=49, Level=3),
        dict(SubjectId=209, Name="Shapes", ParentId=49, Level=3),
    ])  # fmt: skip
    write_table(meta / "question_metadata_task_3_4.csv", ["QuestionId", "SubjectId"], [
        dict(QuestionId=10, SubjectId="[3, 71, 98, 209]"),
        dict(QuestionId=11, SubjectId="[3, 49]"),  # no subject of level 3: its answers are dropped
        dict(QuestionId=12, SubjectId="[3, 98]"),
    ])  # fmt: skip
    answer_header = ["AnswerId", "DateAnswered", "Confidence", "GroupId", "QuizId", "SchemeOfWorkId"]
    write_table(meta / "answer_metadata_task_3_4.csv", answer_header, [
        dict(AnswerId=1, DateAnswered="2020-01-02 10:00:00.000"),
        dict(AnswerId=2, DateAnswered="2020-01-01 09:00:00.000"),
        dict(AnswerId=3, DateAnswered="2020-01-01 10:00:00.000"),
        dict(AnswerId=4, DateAnswered="2020-01-01 11:00:00.000"),
        dict(AnswerId=6, DateAnswered="2020-01-03 00:00:00.000"),
    ])  # fmt: skip
    header = ["QuestionId", "UserId", "AnswerId", "IsCorrect", "CorrectAnswer", "AnswerValue"]
    path = write_table(tmp_path / "train_task_3_4.csv", header, [
        dict(QuestionId=10, UserId=1, AnswerId=1, IsCorrect=1),
        dict(QuestionId=12, UserId=2, AnswerId=2, IsCorrect=0),
        dict(QuestionId=12, UserId=1, AnswerId=3, IsCorrect=0),
        dict(QuestionId=11, UserId=2, AnswerId=4, IsCorrect=1),  # no level-3 subject: dropped
        dict(QuestionId=10, UserId=2, AnswerId=5, IsCorrect=1),  # no answer metadata: dropped
        dict(QuestionId=12, UserId=3, AnswerId=6, IsCorrect=1),
    ])  # fmt: skip
    t = [ms(f"2020-01-0{d}") for d in ("1 09:00:00", "1 10:00:00", "2 10:00:00", "3 00:00:00")]
    # Question 10's level-3 subjects are written in the order of the Python set pyKT joins, not sorted.
    assert prepared(tmp_path, "nips_task34", path) == records(
        (1, "12,10", "98,209_98_71", "0,1", f"{t[1]},{t[2]}", "NA"),
        (2, "12", "98", "0", str(t[0]), "NA"),
        (3, "12", "98", "1", str(t[3]), "NA"),
    )
    other = tmp_path / "elsewhere"
    meta.rename(other)
    assert prepare("nips_task34", [path, other], tmp_path / "out2").learners == 3


def test_poj(tmp_path: Path) -> None:
    header = [
        "Run ID",
        "User",
        "Problem",
        "Result",
        "Memory",
        "Time",
        "Language",
        "Code Length",
        "Submit Time",
    ]
    rows = [
        {"User": "ua", "Problem": 1000, "Result": "Accepted", "Submit Time": "2019-01-02 10:00:00"},
        {"User": "ub", "Problem": 1001, "Result": "Waiting", "Submit Time": "2019-01-01 00:00:00"},  # dropped
        {"User": "ua", "Problem": 1001, "Result": "Compile Error", "Submit Time": "2019-01-01 10:00:00"},
        {"User": "ub", "Problem": 1002, "Result": "Wrong Answer", "Submit Time": "2019-01-03 00:00:00"},
        {"User": "ua", "Problem": 1002, "Result": "Accepted", "Submit Time": ""},  # no time: dropped
    ]
    path = write_table(tmp_path / "poj_log.csv", header, rows)
    assert prepared(tmp_path, "poj", path) == records(
        ("ua", "NA", "1001,1000", "0,1", f"{ms('2019-01-01 10:00:00')},{ms('2019-01-02 10:00:00')}", "NA"),
        ("ub", "NA", "1002", "0", str(ms("2019-01-03 00:00:00")), "NA"),
    )


def ednet_folder(root: Path) -> Path:
    """Learners 0, 1, 2, 3 and 7; pyKT's shuffle (seed 2) meets them in the order 3, 2, 1, 0, 7."""
    header = ["timestamp", "solving_id", "question_id", "user_answer", "elapsed_time"]
    learners = {
        3: [(1565096190868, 1, "q1", "a", 24000), (1565096100000, 2, "q2", "c", 1000)],
        2: [(1565000000000, 1, "q3", "c", 5)],  # q3 has no tags: dropped, and the learner with it
        1: [(1565000000000, 1, "q2", "b", 7000), (1565000000000, 2, "q1", "", 9)],  # no answer: dropped
        0: [(1, 1, "q9", "a", 1)],  # a question not in contents: dropped
        7: [(1565000000001, 1, "q1", "b", 100)],
    }
    for number, answers in learners.items():
        write_table(
            root / "KT1" / f"u{number}.csv", header, [dict(zip(header, a, strict=True)) for a in answers]
        )
    write_table(
        root / "contents" / "questions.csv",
        ["question_id", "bundle_id", "explanation_id", "correct_answer", "part", "tags", "deployed_at"],
        [
            dict(question_id="q1", correct_answer="a", tags="1;2;179"),
            dict(question_id="q2", correct_answer="b", tags="5"),
            dict(question_id="q3", correct_answer="c", tags="-1"),
        ],
    )
    return root


def test_ednet(tmp_path: Path) -> None:
    root = ednet_folder(tmp_path / "ednet")
    assert prepared(tmp_path, "ednet", root) == records(
        (3, "q2,q1", "5,1_2_179", "0,1", "1565096100000,1565096190868", "1000,24000"),
        (1, "q2", "5", "1", "1565000000000", "7000"),
        (7, "q1", "1_2_179", "0", "1565000000001", "100"),
    )
    # ednet5w skips the first 5,000 found; here: skip 1 (learner 3), take 2 (learners 2 and 1).
    answers = read_sample([root], take=2, skip=1)
    assert "".join(f"{line}\n" for line in lines(answers)) == records(
        (1, "q2", "5", "1", "1565000000000", "7000")
    )
