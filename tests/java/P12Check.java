// Loads PKCS#12 keystores the way a Java application does, recovers each private key,
// signs with it and verifies the signature with the entry's certificate.
//
//   java tests/java/P12Check.java FILE ALIAS PASSWORD [FILE ALIAS PASSWORD ...]
//
// PASSWORD may be "env:VAR" (read from the environment), which keeps non-ASCII passwords
// independent of how the JVM decodes its command line. Prints one line per keystore,
// "OK <file> alias=<alias> key=<algorithm> chain=<n>" or "FAIL <file> <reason>", and exits
// 0 when all are OK, 1 otherwise (2 for bad usage).

import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.util.Collections;

public class P12Check {
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args.length % 3 != 0) {
            System.err.println("usage: java P12Check.java FILE ALIAS PASSWORD|env:VAR [...]");
            System.exit(2);
        }
        boolean allOk = true;
        for (int i = 0; i < args.length; i += 3) {
            String result = check(args[i], args[i + 1], args[i + 2]);
            System.out.println(result);
            allOk &= result.startsWith("OK ");
        }
        System.exit(allOk ? 0 : 1);
    }

    static String check(String file, String alias, String pw) {
        if (pw.startsWith("env:")) {
            pw = System.getenv(pw.substring(4));
            if (pw == null) {
                return "FAIL " + file + " environment variable not set";
            }
        }
        char[] password = pw.toCharArray();
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (FileInputStream in = new FileInputStream(file)) {
                ks.load(in, password);
            }
            if (!ks.isKeyEntry(alias)) {
                return "FAIL " + file + " no key entry " + alias + " in " + Collections.list(ks.aliases());
            }
            Key key = ks.getKey(alias, password);
            Certificate[] chain = ks.getCertificateChain(alias);
            byte[] data = "certmint interop check".getBytes(StandardCharsets.UTF_8);
            Signature signer = Signature.getInstance("SHA256withRSA");
            signer.initSign((PrivateKey) key);
            signer.update(data);
            byte[] sig = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withRSA");
            verifier.initVerify(chain[0]);
            verifier.update(data);
            if (!verifier.verify(sig)) {
                return "FAIL " + file + " signature does not verify with the certificate";
            }
            return "OK " + file + " alias=" + alias + " key=" + key.getAlgorithm() + " chain=" + chain.length;
        } catch (Exception e) {
            return "FAIL " + file + " " + e;
        }
    }
}
