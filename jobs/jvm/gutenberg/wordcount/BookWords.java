package gutenberg.wordcount;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;

/**
 * The words of one text, counted: a Spark SQL function (registered by jobs/word_count.py) returning
 * array&lt;struct&lt;word string, count bigint, first bigint&gt;&gt;, one entry per distinct word, where
 * {@code first} is the 0-based position of the word's first token.
 *
 * <p>The tokens are those of jobs/textrules.py's {@code tokenize}: matches of {@code WORD_PATTERN}
 * ({@code [\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*}), each lowercased on its own (so a final sigma is one at
 * the token's end) with {@code ’} as {@code '}. tests/integration/test_tokenizers.py proves it equal to
 * the Python rules on every code point and on every book of the shared mirror.
 *
 * <p>Why JVM code rather than Spark's built-in functions: counting inside the book hands Spark's
 * aggregation one row per distinct word of a book instead of one per token (192 million in the 1 GiB
 * benchmark corpus), and a scan over the characters needs no java.util.regex match objects; the
 * tokenizing stage at 1 GiB took 21 s against 54 s with regexp_extract_all (README "Performance").
 */
public final class BookWords implements UDF1<String, List<Row>> {
    private static final long serialVersionUID = 1L;

    // General categories L* and M*: what \p{L} and \p{M} match.
    private static final int WORD_CATEGORIES =
            1 << Character.UPPERCASE_LETTER
                    | 1 << Character.LOWERCASE_LETTER
                    | 1 << Character.TITLECASE_LETTER
                    | 1 << Character.MODIFIER_LETTER
                    | 1 << Character.OTHER_LETTER
                    | 1 << Character.NON_SPACING_MARK
                    | 1 << Character.ENCLOSING_MARK
                    | 1 << Character.COMBINING_SPACING_MARK;

    /** UTF-16 units of the word character at {@code i} (1 or 2), or 0 if there is none. */
    static int wordCharAt(String text, int i) {
        char c = text.charAt(i);
        if (c < 128) {
            return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? 1 : 0;
        }
        int cp = text.codePointAt(i);
        return (1 << Character.getType(cp) & WORD_CATEGORIES) != 0 ? Character.charCount(cp) : 0;
    }

    static boolean isApostrophe(char c) {
        return c == '\'' || c == '\u2019';
    }

    /** The end of the token starting with a word character at {@code start}. */
    static int tokenEnd(String text, int start) {
        int n = text.length();
        int i = start;
        while (true) {
            int width;
            while (i < n && (width = wordCharAt(text, i)) > 0) {
                i += width;
            }
            // An apostrophe joins two runs of word characters; any other ends the token before it.
            if (i + 1 < n && isApostrophe(text.charAt(i)) && wordCharAt(text, i + 1) > 0) {
                i += 1;
            } else {
                return i;
            }
        }
    }

    static final int CAPITAL_SIGMA = 0x3A3;

    /**
     * A token lowercased as Python's str.lower does: Java's ROOT-locale mapping, but a capital sigma
     * becomes a final sigma by Unicode's Final_Sigma condition, as Python has it. Java decides it by word
     * boundaries and its own list of cased letters, which differ (U+00AA is cased to Unicode).
     */
    static String lower(String token) {
        if (token.indexOf(CAPITAL_SIGMA) < 0) {
            return token.toLowerCase(Locale.ROOT);
        }
        StringBuilder out = new StringBuilder(token.length());
        for (int i = 0; i < token.length(); i += Character.charCount(token.codePointAt(i))) {
            int cp = token.codePointAt(i);
            if (cp == CAPITAL_SIGMA) {
                out.append(isFinalSigma(token, i) ? '\u03C2' : '\u03C3');
            } else {
                out.append(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT));
            }
        }
        return out.toString();
    }

    /** Final_Sigma: a cased letter before, then case-ignorables, the sigma, and no cased letter after. */
    static boolean isFinalSigma(String token, int at) {
        int before = -1;
        for (int i = at; i > 0 && before < 0; ) {
            int cp = token.codePointBefore(i);
            i -= Character.charCount(cp);
            if (!isCaseIgnorable(cp)) {
                before = cp;
            }
        }
        if (before < 0 || !isCased(before)) {
            return false;
        }
        for (int i = at + 1; i < token.length(); i += Character.charCount(token.codePointAt(i))) {
            int after = token.codePointAt(i);
            if (!isCaseIgnorable(after)) {
                return !isCased(after);
            }
        }
        return true;
    }

    /** Unicode's Cased: Lowercase, Uppercase (each with its Other_ part, as Java's methods have) or Lt. */
    static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
    }

    /**
     * Unicode's Case_Ignorable among what a token holds (letters, marks, apostrophes): Mn, Me, Lm, and
     * both apostrophes (Word_Break Single_Quote and MidNumLet). Cf and Sk never occur in a token.
     */
    static boolean isCaseIgnorable(int cp) {
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK
                || type == Character.ENCLOSING_MARK
                || type == Character.MODIFIER_LETTER
                || cp == '\'' || cp == 0x2019;
    }

    @Override
    public List<Row> call(String text) {
        if (text == null) {
            return null;
        }
        Counts counts = new Counts();
        char[] word = new char[64];
        int n = text.length();
        long position = 0;
        int i = 0;
        while (i < n) {
            int width = wordCharAt(text, i);
            if (width == 0) {
                i += Character.charCount(text.codePointAt(i));
                continue;
            }
            int end = tokenEnd(text, i);
            int length = end - i;
            if (length > word.length) {
                word = new char[Math.max(length, 2 * word.length)];
            }
            // Most tokens are ASCII letters: lowercased in place, with no String made for a word seen before.
            boolean ascii = true;
            for (int k = 0; k < length; k++) {
                char c = text.charAt(i + k);
                if (c >= 128) {
                    ascii = false;
                    break;
                }
                word[k] = (char) (c | 0x20); // A-Z to a-z; a-z and the apostrophe (0x27) have the bit
            }
            if (!ascii) {
                String lowered = lower(text.substring(i, end)).replace('\u2019', '\'');
                length = lowered.length();
                if (length > word.length) {
                    word = new char[Math.max(length, 2 * word.length)];
                }
                lowered.getChars(0, length, word, 0);
            }
            counts.add(word, length, position);
            position++;
            i = end;
        }
        return counts.rows();
    }

    /** Words (as char arrays) to {count, first position}: an open-addressing table, linear probing. */
    static final class Counts {
        private char[][] keys = new char[1024][];
        private int[] hashes = new int[1024];
        private long[] counts = new long[1024];
        private long[] firsts = new long[1024];
        private int size;

        void add(char[] word, int length, long position) {
            int hash = 0x9E3779B9;
            for (int k = 0; k < length; k++) {
                hash = (hash ^ word[k]) * 0x01000193;
            }
            hash ^= hash >>> 16;
            int mask = keys.length - 1;
            for (int slot = hash & mask; ; slot = (slot + 1) & mask) {
                char[] key = keys[slot];
                if (key == null) {
                    keys[slot] = Arrays.copyOf(word, length);
                    hashes[slot] = hash;
                    counts[slot] = 1;
                    firsts[slot] = position;
                    if (++size * 2 > keys.length) {
                        grow();
                    }
                    return;
                }
                if (hashes[slot] == hash && Arrays.equals(key, 0, key.length, word, 0, length)) {
                    counts[slot]++;
                    return;
                }
            }
        }

        private void grow() {
            char[][] oldKeys = keys;
            int[] oldHashes = hashes;
            long[] oldCounts = counts;
            long[] oldFirsts = firsts;
            int capacity = oldKeys.length * 2;
            keys = new char[capacity][];
            hashes = new int[capacity];
            counts = new long[capacity];
            firsts = new long[capacity];
            int mask = capacity - 1;
            for (int old = 0; old < oldKeys.length; old++) {
                if (oldKeys[old] == null) {
                    continue;
                }
                int slot = oldHashes[old] & mask;
                while (keys[slot] != null) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = oldKeys[old];
                hashes[slot] = oldHashes[old];
                counts[slot] = oldCounts[old];
                firsts[slot] = oldFirsts[old];
            }
        }

        List<Row> rows() {
            List<Row> rows = new ArrayList<>(size);
            for (int slot = 0; slot < keys.length; slot++) {
                if (keys[slot] != null) {
                    rows.add(RowFactory.create(new String(keys[slot]), counts[slot], firsts[slot]));
                }
            }
            return rows;
        }
    }
}
