//! Display names people cannot abuse: nobody may pass for an official of the session, and two
//! people who type the same name are told apart visibly.
//!
//! Names are compared by their *fold*: NFKC, lower case, the Unicode confusables skeleton
//! (UTS #39, so a Cyrillic `о` or a Greek `ο` is an `o`) and no accents. The fold is for
//! comparing only; people see the name as they typed it (NFC-normalized).

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_security::confusable_detection::skeleton;

use super::Refusal;

/// Words a participant's name may not contain: the titles of the session's officials, in the
/// six UN languages. Compared as whole words after folding (so `Chair`, `CHAIR`, `Chаir` with a
/// Cyrillic `а`, `Modérateur` and `moderateur` all match). Chinese has no spaces between words,
/// so its titles match anywhere in the name.
const RESERVED_WORDS: &[&str] = &[
    // English
    "moderator",
    "moderators",
    "chair",
    "chairs",
    "chairman",
    "chairwoman",
    "chairperson",
    "cochair",
    "host",
    "cohost",
    "secretariat",
    "organizer",
    "organiser",
    "admin",
    "administrator",
    "rapporteur",
    "official",
    // French
    "modérateur",
    "modératrice",
    "président",
    "présidente",
    "hôte",
    "secrétariat",
    "organisateur",
    "organisatrice",
    // Spanish
    "moderador",
    "moderadora",
    "presidente",
    "presidenta",
    "anfitrión",
    "anfitriona",
    "secretaría",
    "secretariado",
    "organizador",
    "organizadora",
    // Arabic (with and without the article)
    "مشرف",
    "المشرف",
    "مشرفة",
    "المشرفة",
    "رئيس",
    "الرئيس",
    "رئيسة",
    "الرئيسة",
    "مضيف",
    "المضيف",
    "الأمانة",
    "أمانة",
    "منسق",
    "المنسق",
    // Russian
    "модератор",
    "председатель",
    "ведущий",
    "ведущая",
    "секретариат",
    "организатор",
    "администратор",
];
const RESERVED_ANYWHERE: &[&str] = &["主持人", "主席", "秘书处", "秘書處", "管理员", "主办方"];

/// `s` folded for comparison: white space runs made one space, presentation selectors dropped.
pub(crate) fn fold(s: &str) -> String {
    let lower: String = s
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(small_capital)
        .filter(|c| !matches!(c, '\u{FE0E}' | '\u{FE0F}'))
        .collect();
    let skel: String = skeleton(&lower).collect();
    let bare: String = skel.nfd().filter(|c| !is_combining_mark(*c)).collect();
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Latin letter a small capital stands for. NFKC and the confusables table leave most of
/// them alone, so "ᴍoderator" would otherwise pass for a name.
fn small_capital(c: char) -> char {
    match c {
        '\u{1D00}' => 'a',
        '\u{0299}' => 'b',
        '\u{1D04}' => 'c',
        '\u{1D05}' => 'd',
        '\u{1D07}' => 'e',
        '\u{A730}' => 'f',
        '\u{0262}' => 'g',
        '\u{029C}' => 'h',
        '\u{026A}' => 'i',
        '\u{1D0A}' => 'j',
        '\u{1D0B}' => 'k',
        '\u{029F}' => 'l',
        '\u{1D0D}' => 'm',
        '\u{0274}' => 'n',
        '\u{1D0F}' => 'o',
        '\u{1D18}' => 'p',
        '\u{A7AF}' => 'q',
        '\u{0280}' => 'r',
        '\u{A731}' => 's',
        '\u{1D1B}' => 't',
        '\u{1D1C}' => 'u',
        '\u{1D20}' => 'v',
        '\u{1D21}' => 'w',
        '\u{028F}' => 'y',
        '\u{1D22}' => 'z',
        c => c,
    }
}

/// A text read the way a title could be written with digits and signs for letters
/// ("M0derator", "Ch@ir", "H0$t"), with `one` standing for the digit 1 (it is an `i` in some
/// titles, an `l` in others, so both readings are tried).
fn letters_for_digits(folded: &str, one: char) -> String {
    folded
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '|' | '!' => one,
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' | '+' => 't',
            c => c,
        })
        .collect()
}

/// The reserved titles, folded once.
static RESERVED: LazyLock<(HashSet<String>, Vec<String>)> = LazyLock::new(|| {
    (
        RESERVED_WORDS.iter().map(|w| fold(w)).collect(),
        RESERVED_ANYWHERE.iter().map(|w| fold(w)).collect(),
    )
});

/// Refuse a name (or an affiliation: `field`) that contains a reserved title. One fold of the
/// text and its two digit-for-letter readings, then set lookups: cheap even for the longest
/// name (a name check runs for every join anyone may send).
pub(crate) fn check_not_reserved(field: &'static str, text: &str) -> Result<(), Refusal> {
    let mut hit = reserved_in(&fold(text));
    // The confusables table reads `0` as a capital O and leaves most digits alone: read digits
    // and signs as letters before folding, only when there are any.
    let wide: String = text.nfkc().collect();
    if !hit && wide.contains(|c: char| "013457@$+|!".contains(c)) {
        hit = ['i', 'l']
            .iter()
            .any(|&one| reserved_in(&fold(&letters_for_digits(&wide, one))));
    }
    if hit {
        Err(Refusal::invalid(
            field,
            "a participant's name or affiliation may not include a title of the session's \
             officials (moderator, chair, host, secretariat...)",
        ))
    } else {
        Ok(())
    }
}

/// Whether folded text holds a reserved title.
fn reserved_in(folded: &str) -> bool {
    let (words_reserved, anywhere) = &*RESERVED;
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // Also join neighbours, so "co-chair" and "co host" read as "cochair" and "cohost".
    words.iter().any(|w| words_reserved.contains(*w))
        || words
            .windows(2)
            .any(|w| words_reserved.contains(&format!("{}{}", w[0], w[1])))
        || anywhere.iter().any(|r| folded.contains(r.as_str()))
}

/// The folded names of the participants present (not removed), with how many hold each: what
/// [`distinct`] looks names up in, kept by `State::apply`, so a join costs a lookup in it, not a
/// walk of everyone in the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Names(BTreeMap<String, u32>);

impl Names {
    /// A present participant holds `folded` (returned).
    pub(crate) fn add(&mut self, folded: String) -> String {
        *self.0.entry(folded.clone()).or_default() += 1;
        folded
    }

    /// A participant who held `old` (folded) is now called `name`: its fold, returned, and held
    /// instead of `old` unless they were removed.
    pub(crate) fn rename(&mut self, old: &str, name: &str, removed: bool) -> String {
        let folded = fold(name);
        if !removed {
            self.remove(old);
            self.add(folded.clone());
        }
        folded
    }

    /// A present participant no longer holds `folded` (renamed or removed).
    pub(crate) fn remove(&mut self, folded: &str) {
        if let Some(n) = self.0.get_mut(folded) {
            *n -= 1;
            if *n == 0 {
                self.0.remove(folded);
            }
        }
    }
}

/// `name`, or `name (2)`, `name (3)`... so that no other present participant's name folds to
/// the same text. `except` is the folded name of the participant being renamed (theirs is not
/// in the way).
pub(crate) fn distinct(name: String, names: &Names, except: Option<&str>) -> String {
    // Only names that fold to this one, or to it with a number, can be in the way: the index
    // holds them together (sorted), so a hundred twins cost one range, not a walk of everyone.
    let base = fold(&name);
    let numbered = format!("{base} (");
    fn held<'a>((f, n): (&'a String, &u32), except: Option<&str>) -> Option<&'a str> {
        let others = n - u32::from(except == Some(f.as_str()));
        (others > 0).then_some(f.as_str())
    }
    let taken: HashSet<&str> = names
        .0
        .get_key_value(&base)
        .and_then(|e| held(e, except))
        .into_iter()
        .chain(
            names
                .0
                .range::<str, _>((Bound::Included(numbered.as_str()), Bound::Unbounded))
                .take_while(|(f, _)| f.starts_with(&numbered))
                .filter_map(|e| held(e, except)),
        )
        .collect();
    if !taken.contains(base.as_str()) {
        return name;
    }
    (taken.len() + 1..)
        .map(|n| format!("{name} ({n})"))
        .find(|candidate| !taken.contains(fold(candidate).as_str()))
        .expect("some number is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_tells_twins_apart_without_a_walk_and_forgets_who_left() {
        let mut names = Names::default();
        assert_eq!(distinct("Ana".into(), &names, None), "Ana");
        names.add(fold("Ana"));
        names.add(fold("Ana Lima")); // shares the prefix, never in the way
        assert_eq!(distinct("ANA".into(), &names, None), "ANA (2)");
        names.add(fold("ANA (2)"));
        assert_eq!(
            distinct("Аna".into(), &names, None),
            "Аna (3)",
            "Cyrillic А"
        );
        // Renaming oneself to one's own name is no clash; someone else's is.
        assert_eq!(distinct("ana".into(), &names, Some(&fold("Ana"))), "ana");
        assert_eq!(
            distinct("ana".into(), &names, Some(&fold("Ana Lima"))),
            "ana (3)"
        );
        names.remove(&fold("ANA (2)"));
        names.remove(&fold("Ana"));
        assert_eq!(distinct("Ana".into(), &names, None), "Ana");
    }

    #[test]
    fn titles_are_reserved_in_every_disguise() {
        for name in [
            "Moderator",
            "IGF Chair",
            "the HOST",
            "Co-Chair Ana",
            "co host",
            "Chаir",     // Cyrillic а
            "Mοderator", // Greek ο
            "Modérateur",
            "moderateur",
            "Secretaría IGF",
            "Секретариат",
            "المشرف",
            "会议主持人",
            "Ｍｏｄｅｒａｔｏｒ", // full width
            "ᴍoderator",          // small capital M
            "ᴍᴏᴅᴇʀᴀᴛᴏʀ",
            "M0derator",
            "Ch@ir",
            "H0$T",
            "0ff1c1al",
            "Session Chair",
        ] {
            assert!(
                check_not_reserved("name", name).is_err(),
                "{name} should be refused"
            );
        }
        for name in [
            "Ana Silva",
            "Hostetler",
            "Chairez Mendoza",
            "محمد",
            "王伟",
            "Jean-Pierre",
            "Room 101",
            "Ana 2",
        ] {
            assert!(
                check_not_reserved("name", name).is_ok(),
                "{name} should pass"
            );
        }
    }

    #[test]
    fn lookalike_names_fold_together() {
        assert_eq!(fold("Ana Silva"), fold("ANA SILVA"));
        assert_eq!(fold("Ana"), fold("Аna")); // Cyrillic А
        assert_eq!(fold("José"), fold("Jose"));
        assert_ne!(fold("Ana"), fold("Anna"));
        assert_eq!(fold("Ana  Lima"), fold("Ana Lima"));
        assert_eq!(fold("Ana\u{3000}Lima"), fold("Ana Lima"));
        assert_eq!(fold("ᴀna"), fold("Ana"));
    }
}
